//go:build !unix

package analysis

import "io/fs"

// fileID identifies a file or folder; without device and inode numbers,
// links are not recognised and MaxDepth alone ends a loop.
type fileID struct{}

func idOf(fs.FileInfo) (fileID, bool) { return fileID{}, false }
