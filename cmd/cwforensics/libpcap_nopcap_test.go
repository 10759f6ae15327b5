//go:build !pcap

package main

// withLibpcap says whether the test binary was built with the pcap tag.
const withLibpcap = false
