#!/usr/bin/env bash
# Makes the journal fixtures of dumps/applog/testdata/ that need a host name
# or a locale this machine's journal has not: entries written in journald's
# export format (entries.sh) are turned into journal files by
# systemd-journal-remote, and journalctl prints them, nothing rewritten:
#   journal-nohost-FORM.log    journalctl --no-hostname -o FORM (host vm)
#   journal-ipv6host-FORM.log  journalctl -o FORM, the host named 2001:db8::
#   journal-locales-short.log  journalctl -o short under LC_ALL=LOCALE, one
#                              entry on the 3rd of each month of 2026, each
#                              locale's block after a line "# LOCALE"
# short-full is printed with --utc, so that its zone is UTC on any machine.
# Needs systemd (journalctl), systemd-journal-remote and locales (the
# locales below are made with localedef when missing).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$HERE/../lib.sh"

OUT=$REPO/dumps/applog/testdata
REMOTE=/lib/systemd/systemd-journal-remote
need "apt-get install systemd systemd-journal-remote locales" journalctl "$REMOTE" localedef
LOCALES=(de_DE fr_FR es_ES it_IT pt_BR nl_NL sv_SE pl_PL cs_CZ tr_TR ru_RU ja_JP ko_KR zh_CN zh_TW)

# journal NAME HOST: the entries of entries.sh with host HOST as the
# journal file SCRATCH/NAME.journal.
journal() {
	bash "$HERE/entries.sh" "$2" "${3:-}" >"$SCRATCH/$1.export"
	"$REMOTE" -o "$SCRATCH/$1.journal" - <"$SCRATCH/$1.export" 2>/dev/null
}
print() { LC_ALL=${LOC:-C} journalctl --no-pager --file "$SCRATCH/$1.journal" "${@:2}"; }

journal plain vm
journal ipv6 2001:db8::
journal months vm months
for form in short short-precise short-iso short-iso-precise short-monotonic short-unix short-full; do
	utc=()
	[ "$form" = short-full ] && utc=(--utc)
	print plain "${utc[@]}" --no-hostname -o "$form" >"$OUT/journal-nohost-$form.log"
done
for form in short short-iso-precise short-monotonic short-unix; do
	print ipv6 -o "$form" >"$OUT/journal-ipv6host-$form.log"
done
: >"$OUT/journal-locales-short.log"
for loc in "${LOCALES[@]}"; do
	locale -a | grep -qx "$loc.utf8" || localedef -i "$loc" -f UTF-8 "$loc.UTF-8"
	echo "# $loc.UTF-8" >>"$OUT/journal-locales-short.log"
	LOC=$loc.UTF-8 print months -o short >>"$OUT/journal-locales-short.log"
done
log "done: $(journalctl --version | head -1)"
