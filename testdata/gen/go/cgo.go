//go:build cgo

package main

/*
#include <unistd.h>

// slow_native_call stands for a native library call that blocks (a driver, a
// resolver): the goroutine shows as [syscall] with cgo frames.
static void slow_native_call(void) { sleep(3600); }
*/
import "C"

func init() {
	startNative = func() {
		go func() { C.slow_native_call() }()
	}
}
