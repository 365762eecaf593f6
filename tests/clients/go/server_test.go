package clients

// Starts the triggerd release binary for the suite: a free loopback port, a fresh temporary
// database and a known root token; stop() terminates it and removes the temporary directory.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

const rootToken = "glpat-goclientsuite-root-0123456789"

type server struct {
	URL  string
	cmd  *exec.Cmd
	dir  string
	mu   sync.Mutex
	logs strings.Builder
	done chan struct{}
}

// binaryPath is $TRIGGERD_BIN, else <repo>/target/release/triggerd (this file is tests/clients/go).
func binaryPath() string {
	if bin := os.Getenv("TRIGGERD_BIN"); bin != "" {
		return bin
	}
	wd, err := os.Getwd()
	if err != nil {
		return "target/release/triggerd"
	}
	return filepath.Join(wd, "..", "..", "..", "target", "release", "triggerd")
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

func startServer() (*server, error) {
	dir, err := os.MkdirTemp("", "triggerd-go-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, done: make(chan struct{})}
	s.cmd = exec.Command(binaryPath())
	s.cmd.Dir = dir // no config.toml here: embedded defaults plus the variables below
	// If the test binary dies without calling Stop (a panic, a timeout), the server goes too.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// RUST_LOG would override the log level, and the address line is logged at info.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RUST_LOG=") {
			env = append(env, kv)
		}
	}
	s.cmd.Env = append(env,
		"TRIGGERD_SERVER__LISTEN=127.0.0.1:0",
		"TRIGGERD_DATABASE__PATH="+filepath.Join(dir, "triggerd.db"),
		"TRIGGERD_BOOTSTRAP__ROOT_TOKEN="+rootToken,
		"TRIGGERD_LOG__LEVEL=info",
	)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot start %s: %w", binaryPath(), err)
	}
	found := make(chan string, 1)
	go func() {
		defer close(s.done)
		scanner := bufio.NewScanner(stderr)
		scanner.Buffer(make([]byte, 64*1024), 1024*1024)
		sent := false
		for scanner.Scan() {
			line := scanner.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
	}()
	select {
	case url := <-found:
		s.URL = url
		return s, nil
	case <-s.done:
		s.cmd.Wait()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("triggerd exited before listening:\n%s", s.Logs())
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("triggerd did not log its address within 30 s:\n%s", s.Logs())
	}
}

func (s *server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

func (s *server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { s.cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-exited
		}
	}
	os.RemoveAll(s.dir)
}
