// SPDX-License-Identifier: GPL-2.0

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("HTTPPIPELINE_STAGE") == "1" {
		os.Exit(stage())
	}
	os.Exit(m.Run())
}

func need(t *testing.T) {
	if _, err := os.Stat("/dev/ctxfd"); err != nil {
		t.Skip("ctxfd.ko not loaded")
	}
}

func TestPipelineAnswers(t *testing.T) {
	need(t)
	srv := httptest.NewServer(http.HandlerFunc(count))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/count?n=3")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[2], "] LINE 3") || !strings.HasPrefix(lines[0], "[req-") {
		t.Fatalf("body %q", body)
	}
}

func TestClientGoneTearsThePipelineDown(t *testing.T) {
	need(t)
	pids := make(chan []int, 1)
	started = func(p ...int) { pids <- p }
	defer func() { started = nil }()
	srv := httptest.NewServer(http.HandlerFunc(count))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/count?n=100000", nil)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	var p []int
	select {
	case p = <-pids:
	case <-time.After(30 * time.Second):
		t.Fatal("the pipeline did not start")
	}
	time.Sleep(100 * time.Millisecond)
	cancel() // the client hangs up
	for _, pid := range p {
		for i := 0; ; i++ {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			s := string(b)
			if err != nil || s[strings.LastIndex(s, ") ")+2] == 'Z' {
				break
			}
			if i == 1000 {
				t.Fatalf("pipeline process %d survived the request", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
