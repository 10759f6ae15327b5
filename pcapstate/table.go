package pcapstate

import (
	"math/bits"
	"unsafe"
)

// table maps connection keys to slab indices: open addressing with linear
// probing over 8-byte slots, each the upper 32 bits of the key's hash (the
// tag, which also gives the slot's home) and the index plus one (0: empty).
// A lookup reads one or two neighbouring slots and then the one conn whose
// tag matches, where a map of keys to pointers reads more memory and
// compares 38-byte keys. It keeps at most half its slots full and never
// shrinks: its size follows the most connections open at once.
type table struct {
	slots []uint64
	mask  uint32
	shift uint32 // 32 - log2(len(slots))
	n     int
	seed  uint64 // per tracker, so that no capture can be built to collide
	// mapped is set when slots were mapped outside the Go heap (a table
	// of chunkBytes or more: a SYN flood's holds millions of entries),
	// so that growing it returns the old slots at once rather than
	// leaving them to the collector, and huge pages spare the page
	// faults of touching tens of MiB.
	mapped *mapping
}

const tableMinBits = 10

func newTable(seed uint64) table {
	return table{slots: make([]uint64, 1<<tableMinBits), mask: 1<<tableMinBits - 1, shift: 32 - tableMinBits, seed: seed}
}

// home is the first slot probed for tag.
func (t *table) home(tag uint32) uint32 { return tag >> t.shift }

// insert adds index idx for a key of hash h that is not in the table.
func (t *table) insert(h uint64, idx uint32) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	t.put(h>>32<<32 | uint64(idx+1))
	t.n++
}

// insertAt is insert for a key whose probe ended at slot empty-1, empty
// (no key added or removed since): the key goes there unless the table
// must grow first. With empty 0 it is insert.
func (t *table) insertAt(empty uint32, h uint64, idx uint32) {
	if empty == 0 || 2*(t.n+1) > len(t.slots) {
		t.insert(h, idx)
		return
	}
	t.slots[empty-1] = h>>32<<32 | uint64(idx+1)
	t.n++
}

func (t *table) put(v uint64) {
	i := t.home(uint32(v >> 32))
	for t.slots[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = v
}

// newSlots returns n zeroed slots, mapped outside the Go heap when they
// take a chunk or more (with their mapping), else on the Go heap.
func newSlots(n int) ([]uint64, *mapping) {
	if size := uintptr(n) * 8; size >= chunkBytes {
		if m := newMapping(size); m != nil {
			return unsafe.Slice((*uint64)(m.p), n), m
		}
	}
	return make([]uint64, n), nil
}

// release returns the slots' memory if they were mapped; the table must
// not be used again.
func (t *table) release() {
	t.mapped.release()
	*t = table{}
}

func (t *table) grow() {
	old, oldMapped := t.slots, t.mapped
	t.slots, t.mapped = newSlots(2 * len(old))
	if m := t.mapped; m != nil && m.n >= 2*chunkBytes {
		// The rehash below writes the new slots from the bottom up, and
		// each page it first writes faults, zeroing it: a SYN flood's
		// table grows to 32 MiB, and on a virtual machine whose host
		// backs its memory lazily that zeroing cost the engine tens of
		// milliseconds. Another goroutine faults them in from the top
		// down meanwhile, on the core the producer leaves idle part of
		// the time: each does about half.
		m.populate()
	}
	t.mask = uint32(len(t.slots) - 1)
	t.shift = 32 - uint32(bits.Len(uint(len(t.slots)))-1)
	for _, v := range old {
		if v != 0 {
			t.put(v)
		}
	}
	oldMapped.release()
}

// remove deletes index idx, for a key of hash h, shifting back the entries
// after it so that no probe sequence is broken.
func (t *table) remove(h uint64, idx uint32) {
	want := h>>32<<32 | uint64(idx+1)
	i := t.home(uint32(h >> 32))
	for t.slots[i] != want {
		if t.slots[i] == 0 {
			return // not there: nothing to do
		}
		i = (i + 1) & t.mask
	}
	for j := (i + 1) & t.mask; t.slots[j] != 0; j = (j + 1) & t.mask {
		// The entry at j may move to the hole at i only if its home is not
		// in (i, j], cyclically.
		if home := t.home(uint32(t.slots[j] >> 32)); (j-home)&t.mask >= (j-i)&t.mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = 0
	t.n--
}

// hash mixes the key's 38 bytes, as five words, with the table's seed (the multiply-fold
// mixing of wyhash).
func (k *connKey) hash(seed uint64) uint64 {
	return hashKey(k.lo[0], k.lo[1], k.hi[0], k.hi[1], k.loPort, k.hiPort, k.vlan, seed)
}

// hashKey is connKey.hash on the key's fields.
func hashKey(lo0, lo1, hi0, hi1 uint64, loPort, hiPort, vlan uint16, seed uint64) uint64 {
	const p0, p1, p2, p3 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db, 0x8ebc6af09c88c6e3, 0x589965cc75374cc3
	ports := uint64(loPort) | uint64(hiPort)<<16 | uint64(vlan)<<32
	h := mix(lo0^seed^p0, lo1^p1)
	h ^= mix(hi0^seed^p2, hi1^p3)
	return mix(h^ports^p1, seed^p0)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// replace changes the index of a key of hash h from old to idx (each a
// slot's low word less one, as insert takes it), in place: the tag, and so
// the probe sequence, stays.
func (t *table) replace(h uint64, old, idx uint32) {
	want := h>>32<<32 | uint64(old+1)
	for i := t.home(uint32(h >> 32)); t.slots[i] != 0; i = (i + 1) & t.mask {
		if t.slots[i] == want {
			t.slots[i] = h>>32<<32 | uint64(idx+1)
			return
		}
	}
}
