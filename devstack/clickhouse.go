package devstack

import (
	"bufio"
	"bytes"
	"context"
	"embed"
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
	"sync"
	"syscall"
	"time"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the embedded server's own SQL (sql/serve.sql).
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)

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
	// ConfigFile is an optional ClickHouse server configuration (XML) for settings the
	// flags above do not cover: users with passwords (user_directories.users_xml),
	// system.query_log. The flags above win over it. The user "default" must stay,
	// without a password, on loopback: trackwatch checks the server's readiness as it.
	ConfigFile string `yaml:"config_file"`
	// Shards and Replicas start Shards x Replicas servers forming one cluster (named by
	// clickhouse.cluster, default trackwatch): the first on the ports above, the others
	// on free ports, each in its own directory under DataDir-cluster. Default 1 and 1:
	// one server in DataDir.
	Shards   int `yaml:"shards"`
	Replicas int `yaml:"replicas"`
}

// MaxClusterNodes bounds Shards x Replicas: each embedded node is a process of a few
// hundred MB.
const MaxClusterNodes = 16

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
	if c.ConfigFile != "" {
		abs, err := filepath.Abs(c.ConfigFile)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return fmt.Errorf("config_file: %w", err)
		}
		c.ConfigFile = abs // the child runs in the data directory
	}
	if c.TCPPort != 0 && c.TCPPort == c.HTTPPort {
		return fmt.Errorf("http_port: %d is the same as tcp_port", c.HTTPPort)
	}
	if c.Shards == 0 {
		c.Shards = 1
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Shards < 1 {
		return fmt.Errorf("shards: %d must be at least 1", c.Shards)
	}
	if c.Replicas < 1 {
		return fmt.Errorf("replicas: %d must be at least 1", c.Replicas)
	}
	if c.Shards*c.Replicas > MaxClusterNodes {
		return fmt.Errorf("shards: %d x %d replicas is more than %d embedded nodes", c.Shards, c.Replicas, MaxClusterNodes)
	}
	if c.ConfigFile != "" && c.Clustered() {
		return fmt.Errorf("config_file: a configuration file of its own is not supported with %d shards x %d replicas (each node gets the cluster's)", c.Shards, c.Replicas)
	}
	if c.StartTimeout < 0 || c.StopTimeout < 0 {
		return errors.New("start_timeout/stop_timeout: must not be negative")
	}
	return nil
}

// Clustered reports whether the configuration starts a cluster of several nodes.
func (c *ClickHouseConfig) Clustered() bool { return c.Shards*c.Replicas > 1 }

// ClickHouse is a running embedded ClickHouse server in a child process, supervised:
// if the child dies while it should be serving, it is started again on the same data
// directory and ports. (libchdb's server aborts when a client dies in the middle of an
// INSERT, which a crashing ingest process does; a real server survives that, and the
// supervisor makes the embedded one survive it too.)
type ClickHouse struct {
	cfg      ClickHouseConfig
	dataDir  string
	exe      string
	lock     *dirLock
	logPath  string
	addr     string
	httpAddr string
	tcpPort  int
	httpPort int
	logger   *slog.Logger

	mu       sync.Mutex
	child    *chdbChild
	stopping bool
	stopped  chan struct{} // closed when the supervisor has ended
	gaveUp   chan struct{} // closed if the server kept crashing and was given up
	restarts int
}

// chdbChild is one run of the server process.
type chdbChild struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	exited  chan struct{}
	waitErr error
}

// childEnv marks a process started to serve ClickHouse; its value is the library path.
const childEnv = "TRACKWATCH_CHDB_CHILD"

// Crash-loop bound: more than maxRestarts unexpected exits within restartWindow and the
// supervisor gives up (Exited is closed).
const (
	maxRestarts   = 5
	restartWindow = time.Minute
)

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
	c := &ClickHouse{
		cfg: cfg, dataDir: dataDir, exe: exe, lock: lock, logger: logger,
		logPath:  filepath.Join(dataDir, "trackwatch-chdb.log"),
		tcpPort:  tcpPort,
		httpPort: httpPort,
		addr:     net.JoinHostPort(cfg.ListenHost, strconv.Itoa(tcpPort)),
		httpAddr: net.JoinHostPort(cfg.ListenHost, strconv.Itoa(httpPort)),
		stopped:  make(chan struct{}),
		gaveUp:   make(chan struct{}),
	}
	_ = os.Truncate(c.logPath, 0) // one run's history; restarts append to it
	child, err := c.spawn(ctx)
	// A port picked free can be taken by another process before the server binds it (test
	// binaries start servers side by side): pick again, when trackwatch picked them.
	for try := 1; err != nil && try < 4 && strings.Contains(err.Error(), "Address already in use") && cfg.TCPPort == 0 && cfg.HTTPPort == 0; try++ {
		logger.Warn("embedded clickhouse: a picked port was taken before the server bound it; picking again", "try", try)
		if c.tcpPort, err = pickPort(cfg.ListenHost, 0, "tcp_port"); err != nil {
			return nil, err
		}
		if c.httpPort, err = pickPort(cfg.ListenHost, 0, "http_port"); err != nil {
			return nil, err
		}
		c.addr = net.JoinHostPort(cfg.ListenHost, strconv.Itoa(c.tcpPort))
		c.httpAddr = net.JoinHostPort(cfg.ListenHost, strconv.Itoa(c.httpPort))
		child, err = c.spawn(ctx)
	}
	if err != nil {
		return nil, err
	}
	c.child = child
	go c.supervise()
	ok = true
	logger.Info("embedded clickhouse started", "native", c.addr, "http", c.httpAddr,
		"version", ChdbVersion, "data_dir", dataDir, "pid", child.cmd.Process.Pid)
	return c, nil
}

// spawn starts one server process and waits until it answers.
func (c *ClickHouse) spawn(ctx context.Context) (*chdbChild, error) {
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedded clickhouse: open log: %w", err)
	}
	defer logFile.Close()
	var extra []string
	if c.cfg.ConfigFile != "" {
		extra = append(extra, "--config-file="+c.cfg.ConfigFile)
	}
	cmd := exec.Command(c.exe, append(extra,
		"--path="+c.dataDir+"/",
		"--tcp_port="+strconv.Itoa(c.tcpPort),
		"--http_port="+strconv.Itoa(c.httpPort),
		"--listen_host="+c.cfg.ListenHost,
		"--logger.log="+filepath.Join(c.dataDir, "clickhouse-server.log"),
		"--logger.level=warning",
		"--query="+statements.Text("serve", nil),
	)...)
	cmd.Env = append(os.Environ(), childEnv+"="+c.cfg.LibPath)
	cmd.Dir = c.dataDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{c.lock.file()} // the child keeps the directory locked while it lives
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
	child := &chdbChild{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	go func() { child.waitErr = cmd.Wait(); close(child.exited) }()
	if err := c.waitReady(ctx, child, c.cfg.StartTimeout); err != nil {
		c.stopChild(child)
		return nil, err
	}
	return child, nil
}

// supervise restarts the child when it exits unexpectedly, until Close or a crash loop.
func (c *ClickHouse) supervise() {
	defer close(c.stopped)
	var crashes []time.Time
	for {
		c.mu.Lock()
		child := c.child
		c.mu.Unlock()
		<-child.exited
		c.mu.Lock()
		stopping := c.stopping
		c.mu.Unlock()
		if stopping {
			return
		}
		now := time.Now()
		crashes = append(crashes, now)
		for len(crashes) > 0 && now.Sub(crashes[0]) > restartWindow {
			crashes = crashes[1:]
		}
		c.logger.Error("embedded clickhouse exited unexpectedly; restarting it", "err", child.waitErr, "log", c.logTail())
		if len(crashes) > maxRestarts {
			c.logger.Error("embedded clickhouse keeps crashing; giving up", "crashes", len(crashes), "within", restartWindow)
			close(c.gaveUp)
			return
		}
		time.Sleep(200 * time.Millisecond) // let the kernel release the listening ports
		next, err := c.spawn(context.Background())
		c.mu.Lock()
		if err == nil {
			c.child = next
			c.restarts++
		}
		stopping = c.stopping
		c.mu.Unlock()
		if err != nil {
			c.logger.Error("embedded clickhouse restart failed", "err", err)
			close(c.gaveUp)
			return
		}
		if stopping { // Close raced with the restart
			c.stopChild(next)
			return
		}
		c.logger.Warn("embedded clickhouse restarted", "pid", next.cmd.Process.Pid)
	}
}

// Addr is the native-protocol host:port.
func (c *ClickHouse) Addr() string { return c.addr }

// HTTPAddr is the HTTP interface's host:port.
func (c *ClickHouse) HTTPAddr() string { return c.httpAddr }

// Pid is the current child's process id.
func (c *ClickHouse) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.child.cmd.Process.Pid
}

// Restarts counts how often the supervisor restarted the server after a crash.
func (c *ClickHouse) Restarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// Exited is closed if the server could not be kept running (a crash loop).
func (c *ClickHouse) Exited() <-chan struct{} { return c.gaveUp }

// Close shuts the server down gracefully (closing its stdin), killing it after the stop
// timeout, and releases the data directory.
func (c *ClickHouse) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		return nil
	}
	c.stopping = true
	child := c.child
	c.mu.Unlock()
	select {
	case <-child.exited: // it crashed just before Close; the supervisor saw stopping and left it
		c.logger.Warn("embedded clickhouse had already exited at shutdown", "err", child.waitErr)
		<-c.stopped
		c.lock.release()
		return nil
	default:
	}
	err := c.stopChild(child)
	<-c.stopped
	c.lock.release()
	return err
}

func (c *ClickHouse) stopChild(child *chdbChild) error {
	_ = child.stdin.Close()
	select {
	case <-child.exited:
	case <-time.After(c.cfg.StopTimeout):
		c.logger.Warn("embedded clickhouse did not stop in time; killing it", "timeout", c.cfg.StopTimeout)
		_ = child.cmd.Process.Kill()
		<-child.exited
	}
	if child.waitErr != nil {
		return fmt.Errorf("embedded clickhouse exited: %w%s", child.waitErr, c.logTail())
	}
	return nil
}

// waitReady polls the HTTP /ping endpoint and the native port until both answer.
func (c *ClickHouse) waitReady(ctx context.Context, child *chdbChild, timeout time.Duration) error {
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
		case <-child.exited:
			return fmt.Errorf("embedded clickhouse exited during startup (%v)%s", child.waitErr, c.logTail())
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

// logTail returns the last lines the child and the server logged, to put a failure's
// cause in its error.
func (c *ClickHouse) logTail() string {
	var out strings.Builder
	for _, path := range []string{c.logPath, filepath.Join(filepath.Dir(c.logPath), "clickhouse-server.log")} {
		b, err := os.ReadFile(path)
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var severe []string // the server's own account of a failure, wherever it is
		for _, l := range lines {
			if strings.Contains(l, "<Fatal>") || strings.Contains(l, "<Error>") {
				severe = append(severe, l)
			}
		}
		if len(severe) > 40 {
			severe = severe[len(severe)-40:]
		}
		if len(lines) > 10 {
			lines = lines[len(lines)-10:]
		}
		if len(severe) > 0 {
			out.WriteString("\n--- " + path + " (errors) ---\n" + strings.Join(severe, "\n"))
		}
		out.WriteString("\n--- " + path + " (last lines) ---\n" + strings.Join(lines, "\n"))
	}
	return out.String()
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

// FreePort returns a port on host that was free a moment ago.
func FreePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
