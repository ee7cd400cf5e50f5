//go:build !unix

package state

import "os"

// unlock does nothing where bbolt's lock goes with the file handle.
func unlock(*os.File) {}
