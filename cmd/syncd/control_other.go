//go:build !linux

package main

import (
	"errors"
	"net"
)

var errNoPeerCred = errors.New("this system does not tell a Unix socket who connected (SO_PEERCRED is Linux's)")

// peerCredSupported: the control socket is served only where the kernel
// says who connected.
func peerCredSupported() error { return errNoPeerCred }

func peerUID(net.Conn) (uint32, error) { return 0, errNoPeerCred }
