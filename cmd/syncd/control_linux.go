package main

import (
	"errors"
	"net"
	"syscall"
)

// peerCredSupported: Linux tells a Unix socket who is on its other end.
func peerCredSupported() error { return nil }

// peerUID is the uid of the process on the other end of conn, as the
// kernel recorded it when that process connected (SO_PEERCRED), in this
// process's user namespace (a uid systemd's PrivateUsers= does not map
// shows as the overflow uid, 65534).
func peerUID(conn net.Conn) (uint32, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return 0, errors.New("not a Unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return cred.Uid, nil
}
