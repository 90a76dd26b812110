// actor_bench.go — Go's goroutines and channels on the actor workloads of
// bench/bench_actor.c (run by run_go.sh with GOMAXPROCS=2, the bench
// runtime's two workers). Prints one line per case: name, ops/s and ns/op
// (median of the rounds, [min - max]); every run checks its counts.
//
//   actor_counting       Savina "Counting": the main goroutine streams n
//                        uint64s into a buffered channel (1024) drained by
//                        one goroutine that sums them.
//   actor_fj_throughput  Savina "Fork-Join throughput": one message to each
//                        of 60 goroutines in turn (a buffered channel of
//                        1024 each), repeated; each counts its share.
//   actor_thread_rr      request/reply round trip over two unbuffered
//                        channels (the peer of parc_actor_ask/await).
//
// Two ways to run it:
//   - by parc-bench, as the "go" case of those three benchmarks
//     (bench_run_external in bench/bench.h): with PARC_BENCH_OPS in the
//     environment and the case's name as its argument, it runs that case
//     once over PARC_BENCH_OPS operations (GOMAXPROCS 2 unless the
//     environment says otherwise: the parc side's two workers), after a
//     warm-up of a tenth of them, and prints "<elapsed ns> <ops>";
//   - by run_go.sh (go run, rounds as the argument): every case, a table.
// Go does not pin its threads: under parc-bench --pin the Go figure is an
// unpinned one.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

const capacity = 1024

func streamTo(n, actors int) time.Duration {
	chans := make([]chan uint64, actors)
	counts := make([]uint64, actors)
	sums := make([]uint64, actors)
	var wg sync.WaitGroup
	for k := range chans {
		chans[k] = make(chan uint64, capacity)
		share := n / actors
		if k < n%actors {
			share++
		}
		wg.Add(1)
		go func(k, share int) {
			defer wg.Done()
			var c, s uint64
			for i := 0; i < share; i++ {
				s += <-chans[k]
				c++
			}
			counts[k], sums[k] = c, s
		}(k, share)
	}
	start := time.Now()
	k := 0
	for i := 0; i < n; i++ {
		chans[k] <- uint64(i + 1)
		if k++; k == actors {
			k = 0
		}
	}
	wg.Wait()
	d := time.Since(start)
	var c, s uint64
	for k := range counts {
		c += counts[k]
		s += sums[k]
	}
	if c != uint64(n) || s != uint64(n)*uint64(n+1)/2 {
		fmt.Println("go: count check failed")
		os.Exit(1)
	}
	return d
}

func requestReply(n int) time.Duration {
	req, rep := make(chan uint64), make(chan uint64)
	go func() {
		for v := range req {
			rep <- v
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		req <- uint64(i)
		if <-rep != uint64(i) {
			fmt.Println("go: wrong reply")
			os.Exit(1)
		}
	}
	d := time.Since(start)
	close(req)
	return d
}

func measure(name string, n int, rounds int, f func(int) time.Duration) {
	f(n / 10) // warm-up
	var ns []float64
	for r := 0; r < rounds; r++ {
		ns = append(ns, float64(f(n).Nanoseconds())/float64(n))
	}
	sort.Float64s(ns)
	med := ns[len(ns)/2]
	fmt.Printf("go  %-28s %10.3gM ops/s %9.1f ns/op  [%.1f - %.1f]\n",
		name, 1e3/med, med, ns[0], ns[len(ns)-1])
}

// cases by their parc-bench names.
var cases = map[string]func(int) time.Duration{
	"actor_counting":      func(n int) time.Duration { return streamTo(n, 1) },
	"actor_fj_throughput": func(n int) time.Duration { return streamTo(n, 60) },
	"actor_thread_rr":     requestReply,
}

// runForParcBench is one run of one case for bench_run_external.
func runForParcBench(ops string) {
	n, err := strconv.Atoi(ops)
	if err != nil || n <= 0 || len(os.Args) < 2 || cases[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: PARC_BENCH_OPS=n actor_bench CASE")
		os.Exit(2)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
	f := cases[os.Args[1]]
	if n >= 10 {
		f(n / 10) // warm-up
	}
	fmt.Printf("%d %d\n", f(n).Nanoseconds(), n)
}

func main() {
	if ops := os.Getenv("PARC_BENCH_OPS"); ops != "" {
		runForParcBench(ops)
		return
	}
	rounds := 5
	if len(os.Args) > 1 {
		if r, err := strconv.Atoi(os.Args[1]); err == nil && r > 0 {
			rounds = r
		}
	}
	measure("actor_counting", 2000000, rounds, func(n int) time.Duration { return streamTo(n, 1) })
	measure("actor_fj_throughput 60", 2000000, rounds, func(n int) time.Duration { return streamTo(n, 60) })
	measure("actor_thread_rr", 200000, rounds, requestReply)
}
