// SPDX-License-Identifier: LGPL-2.1-or-later

// Command httppipeline is an HTTP server whose handler runs a pipeline of
// child processes under the request's context: when the client goes away
// or the request's time is up, the kernel tears both process trees down
// at once, and every stage can read the request's id from the context it
// inherited.
//
//	go run ./examples/httppipeline -addr 127.0.0.1:8080 &
//	curl 'http://127.0.0.1:8080/count?n=5'
//	curl -m 1 'http://127.0.0.1:8080/count?n=1000'   # gives up: the pipeline dies
//
// The pipeline is `sh -c 'count to n, slowly' | httppipeline (as a
// stage)`: the second stage is this very program, started with
// HTTPPIPELINE_STAGE=1.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"ctxfd"
)

func main() {
	if os.Getenv("HTTPPIPELINE_STAGE") == "1" {
		os.Exit(stage())
	}
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	http.HandleFunc("/count", count)
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

var requests atomic.Int64

// started, if set, is told the pids of each request's pipeline (tests).
var started func(pids ...int)

// count streams "n" numbered lines through the pipeline.
func count(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 {
		http.Error(w, "n must be a number", http.StatusBadRequest)
		return
	}
	// The request's context, as a kernel context: canceled when the
	// client goes away, and in 10 s at the latest, by the kernel's timer.
	ctx, cancel, err := ctxfd.WithTimeout(r.Context(), 10*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer ctx.Close()
	defer cancel()
	id := fmt.Sprintf("req-%d", requests.Add(1))
	vctx, err := ctxfd.WithValue(ctx, "request-id", id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer vctx.Close()

	self, err := os.Executable()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	producer := ctxfd.Command(vctx, "sh", "-c",
		`i=0; while [ "$i" -lt "$1" ]; do i=$((i+1)); echo "line $i"; sleep 0.05; done`, "sh", strconv.Itoa(n))
	upper := ctxfd.Command(vctx, self)
	upper.Env = append(os.Environ(), "HTTPPIPELINE_STAGE=1")
	pipe, err := producer.StdoutPipe()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	upper.Stdin = pipe
	upper.Stdout = w
	if err := producer.Start(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := upper.Start(); err != nil {
		cancel() // the kernel ends the producer
		producer.Wait()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if started != nil {
		started(producer.Process.Pid, upper.Process.Pid)
	}
	perr, uerr := producer.Wait(), upper.Wait()
	switch {
	case errors.Is(uerr, context.Canceled), errors.Is(uerr, context.DeadlineExceeded):
		log.Printf("%s: pipeline stopped: %v", id, uerr)
	case perr != nil || uerr != nil:
		log.Printf("%s: pipeline failed: %v, %v", id, perr, uerr)
	}
}

// stage upper-cases its input, tagging each line with the request id it
// finds in the context it was started under.
func stage() int {
	ctx, err := ctxfd.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	id, _ := ctx.Value(ctxfd.Key("request-id")).(string)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if ctx.Err() != nil { // cooperative: stop early, say why
			fmt.Fprintf(os.Stderr, "%s: %v\n", id, ctxfd.Cause(ctx))
			return 1
		}
		fmt.Printf("[%s] %s\n", id, strings.ToUpper(in.Text()))
	}
	return 0
}
