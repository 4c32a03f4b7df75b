package devstack

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed chdb.pin
var chdbPin string

// ChdbVersion is the pinned @chdb/lib-linux-x64-gnu version (devstack/chdb.pin).
var ChdbVersion = pinValue("version")

// FetchCommand is what a user runs to download and verify the pinned libchdb.so.
const FetchCommand = "make chdb   (or: scripts/fetch-chdb.sh)"

// ErrLibMissing is returned when libchdb.so is not where the config says.
var ErrLibMissing = errors.New("libchdb.so not found")

func pinValue(key string) string {
	for _, line := range strings.Split(chdbPin, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			return v
		}
	}
	panic("devstack/chdb.pin has no " + key) // the file is embedded: a build-time defect
}

// DefaultLibPath is where scripts/fetch-chdb.sh caches the library:
// $XDG_CACHE_HOME (or ~/.cache)/trackwatch/chdb/VERSION/libchdb.so.
func DefaultLibPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = ".cache"
	}
	return filepath.Join(dir, "trackwatch", "chdb", ChdbVersion, "libchdb.so")
}

// ClickHouseConfig configures the embedded ClickHouse server. The zero value is usable.
type ClickHouseConfig struct {
	// LibPath is libchdb.so. Default DefaultLibPath(), where `make chdb` puts it.
	LibPath string `yaml:"lib_path"`
	// DataDir holds the databases; they persist across restarts. Default ./data/clickhouse.
	DataDir string `yaml:"data_dir"`
	// ListenHost is the interface both ports bind. Default 127.0.0.1.
	ListenHost string `yaml:"listen_host"`
	// TCPPort serves the native protocol. Default 9000; 0 picks a free port.
	TCPPort int `yaml:"tcp_port"`
	// HTTPPort serves the HTTP interface. Default 8123; 0 picks a free port.
	HTTPPort int `yaml:"http_port"`
	// StartTimeout bounds how long startup may take. Default 60s.
	StartTimeout time.Duration `yaml:"start_timeout"`
	// StopTimeout bounds a graceful shutdown before the child is killed. Default 30s.
	StopTimeout time.Duration `yaml:"stop_timeout"`
}

// Validate fills defaults and checks the values, naming the offending key.
func (c *ClickHouseConfig) Validate() error {
	if c.LibPath == "" {
		c.LibPath = DefaultLibPath()
	}
	if c.DataDir == "" {
		c.DataDir = "./data/clickhouse"
	}
	if c.ListenHost == "" {
		c.ListenHost = "127.0.0.1"
	}
	if c.TCPPort == 0 && c.HTTPPort == 0 {
		c.TCPPort, c.HTTPPort = 9000, 8123
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 30 * time.Second
	}
	if net.ParseIP(c.ListenHost) == nil && c.ListenHost != "localhost" {
		return fmt.Errorf("listen_host: %q is not an IP address", c.ListenHost)
	}
	for key, p := range map[string]int{"tcp_port": c.TCPPort, "http_port": c.HTTPPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%s: %d is out of range 0..65535", key, p)
		}
	}
	if c.TCPPort != 0 && c.TCPPort == c.HTTPPort {
		return fmt.Errorf("http_port: %d is the same as tcp_port", c.HTTPPort)
	}
	if c.StartTimeout < 0 || c.StopTimeout < 0 {
		return errors.New("start_timeout/stop_timeout: must not be negative")
	}
	return nil
}

// ClickHouse is a running embedded ClickHouse server in a child process.
type ClickHouse struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	exited   chan struct{}
	waitErr  error
	lock     *dirLock
	logPath  string
	addr     string
	httpAddr string
	stopWait time.Duration
	logger   *slog.Logger
}

// childEnv marks a process started to serve ClickHouse; its value is the library path.
const childEnv = "TRACKWATCH_CHDB_CHILD"

// StartClickHouse launches the server and waits until it accepts native connections.
// The child is this same executable re-run in child mode (see RunChildIfRequested): it
// loads libchdb.so and serves until its stdin closes. The parent holds the write end of
// that pipe, so whenever the parent dies, however it dies, the kernel closes the pipe and
// the server shuts down.
func StartClickHouse(ctx context.Context, cfg ClickHouseConfig, logger *slog.Logger) (*ClickHouse, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("embedded clickhouse config: %w", err)
	}
	if _, err := os.Stat(cfg.LibPath); err != nil {
		return nil, fmt.Errorf("%w at %s (ClickHouse %s). Fetch it with: %s", ErrLibMissing, cfg.LibPath, ChdbVersion, FetchCommand)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded clickhouse data_dir: %w", err)
	}
	lock, err := lockDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded clickhouse: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			lock.release()
		}
	}()
	tcpPort, err := pickPort(cfg.ListenHost, cfg.TCPPort, "tcp_port")
	if err != nil {
		return nil, err
	}
	httpPort, err := pickPort(cfg.ListenHost, cfg.HTTPPort, "http_port")
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("embedded clickhouse: find own executable: %w", err)
	}
	logPath := filepath.Join(dataDir, "trackwatch-chdb.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedded clickhouse: open log: %w", err)
	}
	defer logFile.Close()

	cmd := exec.Command(exe,
		"--path="+dataDir+"/",
		"--tcp_port="+strconv.Itoa(tcpPort),
		"--http_port="+strconv.Itoa(httpPort),
		"--listen_host="+cfg.ListenHost,
		"--query=SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; SELECT count() FROM file('/dev/stdin','LineAsString') FORMAT Null",
	)
	cmd.Env = append(os.Environ(), childEnv+"="+cfg.LibPath)
	cmd.Dir = dataDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{lock.file()} // the child keeps the directory locked while it lives
	// Own process group: a terminal's Ctrl-C reaches only the parent, which then shuts the
	// child down in order by closing its stdin.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("embedded clickhouse: stdin pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("embedded clickhouse: start child: %w", err)
	}
	ch := &ClickHouse{
		cmd: cmd, stdin: stdin, exited: make(chan struct{}), lock: lock, logPath: logPath,
		addr:     net.JoinHostPort(cfg.ListenHost, strconv.Itoa(tcpPort)),
		httpAddr: net.JoinHostPort(cfg.ListenHost, strconv.Itoa(httpPort)),
		stopWait: cfg.StopTimeout, logger: logger,
	}
	go func() { ch.waitErr = cmd.Wait(); close(ch.exited) }()

	if err := ch.waitReady(ctx, cfg.StartTimeout); err != nil {
		ch.stop()
		return nil, err
	}
	ok = true
	logger.Info("embedded clickhouse started", "native", ch.addr, "http", ch.httpAddr,
		"version", ChdbVersion, "data_dir", dataDir, "pid", cmd.Process.Pid)
	return ch, nil
}

// Addr is the native-protocol host:port.
func (c *ClickHouse) Addr() string { return c.addr }

// HTTPAddr is the HTTP interface's host:port.
func (c *ClickHouse) HTTPAddr() string { return c.httpAddr }

// Pid is the child's process id.
func (c *ClickHouse) Pid() int { return c.cmd.Process.Pid }

// Exited is closed when the child process has ended.
func (c *ClickHouse) Exited() <-chan struct{} { return c.exited }

// Close shuts the server down gracefully (closing its stdin), killing it after the stop
// timeout, and releases the data directory.
func (c *ClickHouse) Close() error {
	if c == nil {
		return nil
	}
	err := c.stop()
	c.lock.release()
	return err
}

func (c *ClickHouse) stop() error {
	_ = c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(c.stopWait):
		c.logger.Warn("embedded clickhouse did not stop in time; killing it", "timeout", c.stopWait)
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	if c.waitErr != nil {
		return fmt.Errorf("embedded clickhouse exited: %w%s", c.waitErr, c.logTail())
	}
	return nil
}

// waitReady polls the HTTP /ping endpoint and the native port until both answer.
func (c *ClickHouse) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if c.answers() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("embedded clickhouse: %w", ctx.Err())
		case <-c.exited:
			return fmt.Errorf("embedded clickhouse exited during startup (%v)%s", c.waitErr, c.logTail())
		case <-deadline.C:
			return fmt.Errorf("embedded clickhouse did not answer on %s within %s%s", c.addr, timeout, c.logTail())
		case <-tick.C:
		}
	}
}

func (c *ClickHouse) answers() bool {
	conn, err := net.DialTimeout("tcp", c.httpAddr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(conn, "GET /ping HTTP/1.0\r\n\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, " 200 ") {
		return false
	}
	native, err := net.DialTimeout("tcp", c.addr, time.Second)
	if err != nil {
		return false
	}
	native.Close()
	return true
}

// logTail returns the last lines the child wrote, to put a failure's cause in its error.
func (c *ClickHouse) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n--- " + c.logPath + " (last lines) ---\n" + strings.Join(lines, "\n")
}

// pickPort returns port, or a free one when port is 0, after checking it is free: a
// clear error here beats a server that starts without its listener.
func pickPort(host string, port int, key string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("embedded clickhouse: %s %d on %s is not available (set embedded.clickhouse.%s): %w", key, port, host, key, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
