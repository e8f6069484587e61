// Command botloop stands in for the seed's long-running "opencode bot"
// Deployment: it runs a command (opencode run …) once per model, again every
// -every, copies the command's output to its own, and answers /healthz with
// 200 once every model's run has succeeded (the Deployment's readiness
// probe). Each run's end is logged as one JSON line:
//
//	{"event":"run","model":"miaou/glm-5","exit":0,"seconds":4.2}
//
// Usage: botloop [-listen :8080] [-every 30s] -models a/m,b/m -- opencode run --model {model} "prompt"
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "address of /healthz")
	every := flag.Duration("every", 30*time.Second, "pause between rounds of runs")
	models := flag.String("models", "", "comma-separated models; {model} in the command is replaced by each")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 || *models == "" {
		fmt.Fprintln(os.Stderr, "usage: botloop [-listen :8080] [-every 30s] -models a/m,b/m -- command args ({model} replaced)")
		os.Exit(2)
	}
	list := strings.Split(*models, ",")
	var mu sync.Mutex
	ok := map[string]bool{}
	ready := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ok) == len(list)
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not every model answered yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	go func() {
		srv := &http.Server{Addr: *listen, ReadHeaderTimeout: 5 * time.Second}
		if err := srv.ListenAndServe(); err != nil {
			fmt.Fprintln(os.Stderr, "botloop:", err)
			os.Exit(1)
		}
	}()
	enc := json.NewEncoder(os.Stdout)
	tick := time.NewTicker(*every) // a bot's schedule
	defer tick.Stop()
	for ; ; <-tick.C {
		for _, m := range list {
			argv := make([]string, len(args))
			for i, a := range args {
				argv[i] = strings.ReplaceAll(a, "{model}", m)
			}
			start := time.Now()
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			err := cmd.Run()
			code := 0
			if err != nil {
				code = -1
				if ee, isExit := err.(*exec.ExitError); isExit {
					code = ee.ExitCode()
				}
			}
			_ = enc.Encode(map[string]any{"event": "run", "model": m, "exit": code, "seconds": time.Since(start).Seconds()})
			if code == 0 {
				mu.Lock()
				ok[m] = true
				mu.Unlock()
			}
		}
	}
}
