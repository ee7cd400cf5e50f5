//go:build !unix

package main

import (
	"errors"
	"os"
)

// canWrite says whether the file at path is not read-only, without
// opening it. (Without access(2), only its read-only attribute is seen.)
func canWrite(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o200 == 0 {
		return errors.New("the file is read-only")
	}
	return nil
}
