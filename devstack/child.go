package devstack

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/ebitengine/purego"
)

// RunChildIfRequested turns this process into the embedded ClickHouse server when the
// parent started it for that (see StartClickHouse), and never returns in that case.
// Call it first thing in main, and in TestMain of packages whose tests start the stack.
func RunChildIfRequested() {
	lib := os.Getenv(childEnv)
	if lib == "" {
		return
	}
	os.Exit(serveClickHouse(lib, os.Args[1:]))
}

// serveClickHouse loads libchdb and runs clickhouse-local with the given flags. The query
// starts the listeners and then reads stdin to its end, so the server lives exactly as
// long as the parent holds the pipe open.
func serveClickHouse(lib string, args []string) int {
	handle, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load %s: %v\n", lib, err)
		return 2
	}
	var (
		queryCmdline  func(argc int32, argv **byte) uintptr
		resultError   func(result uintptr) *byte
		destroyResult func(result uintptr)
	)
	purego.RegisterLibFunc(&queryCmdline, handle, "chdb_query_cmdline")
	purego.RegisterLibFunc(&resultError, handle, "chdb_result_error")
	purego.RegisterLibFunc(&destroyResult, handle, "chdb_destroy_query_result")

	// chdb parses argv like main() does: element 0 is the program name and is skipped.
	// Without it the first flag (--path) is silently dropped and the data goes to a
	// temporary directory that is lost at exit.
	args = append([]string{"clickhouse"}, args...)
	argv := make([]*byte, len(args)+1) // NULL-terminated, like a C argv
	keep := make([][]byte, len(args))
	for i, a := range args {
		keep[i] = append([]byte(a), 0)
		argv[i] = &keep[i][0]
	}
	result := queryCmdline(int32(len(args)), &argv[0])
	if result == 0 {
		fmt.Fprintln(os.Stderr, "chdb_query_cmdline returned no result")
		return 1
	}
	defer destroyResult(result)
	if msg := resultError(result); msg != nil {
		fmt.Fprintf(os.Stderr, "clickhouse: %s\n", cString(msg))
		return 1
	}
	return 0
}

func cString(p *byte) string {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
