//go:build !unix

package analysis

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
