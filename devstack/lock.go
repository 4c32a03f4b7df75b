package devstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrDataDirInUse is returned when another process holds the data directory.
var ErrDataDirInUse = errors.New("data directory is in use")

const lockName = ".trackwatch.lock"

// dirLock is an exclusive flock on a file inside a data directory. The kernel drops it
// when every process holding the file descriptor is gone, so a SIGKILLed owner never
// leaves a stale lock behind, and a child that inherits the descriptor keeps the
// directory locked until it too has exited.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	// A dead owner's lock is released only when every process sharing the descriptor
	// (its server child) has exited, which can take a moment after a crash: wait for
	// that, but never for a live owner.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		owner, _ := os.ReadFile(path)
		ownerPid := strings.TrimSpace(string(owner))
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if pidAlive(ownerPid) || time.Now().After(deadline) {
			f.Close()
			state := "another trackwatch (pid " + ownerPid + ")"
			if !pidAlive(ownerPid) {
				state = "a process that outlived trackwatch pid " + ownerPid + " (a leftover server child?)"
			}
			return nil, fmt.Errorf("%w: %s is locked by %s; stop it or use another data directory", ErrDataDirInUse, dir, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) file() *os.File { return l.f }

// pidAlive reports whether pid names a running process.
func pidAlive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	return syscall.Kill(n, 0) == nil || errors.Is(syscall.Kill(n, 0), syscall.EPERM)
}

func (l *dirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}
