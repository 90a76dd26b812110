// chan_bench.go — Go's channels on the workloads of bench/bench_chan.c,
// for the ratios of issue 15 (run by run_go.sh with GOMAXPROCS=2).
// Prints one line per case: name, ops/s and ns/op (median of the rounds).
//
// parc-bench also runs it as the "go" case of chan_buffered, chan_pingpong
// and chan_select4 (bench_run_external in bench/bench.h): with
// PARC_BENCH_OPS in the environment and the benchmark's name as its
// argument, it runs that case once over PARC_BENCH_OPS operations, the
// producers and consumers taken from PARC_BENCH_ARG and PARC_BENCH_THREADS
// as bench_chan.c takes them (GOMAXPROCS 2 unless the environment says
// otherwise), after a warm-up of a tenth of them, and prints
// "<elapsed ns> <ops>". Go does not pin its threads.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"time"
)

const capacity = 1024

func buffered(n, producers, consumers int) time.Duration {
	c := make(chan uint64, capacity)
	done := make(chan uint64)
	start := time.Now()
	for p := 0; p < producers; p++ {
		share := n / producers
		if p < n%producers {
			share++
		}
		go func(k int) {
			for i := 0; i < k; i++ {
				c <- uint64(i + 1)
			}
		}(share)
	}
	for q := 0; q < consumers; q++ {
		share := n / consumers
		if q < n%consumers {
			share++
		}
		go func(k int) {
			var sum uint64
			for i := 0; i < k; i++ {
				sum += <-c
			}
			done <- sum
		}(share)
	}
	for q := 0; q < consumers; q++ {
		<-done
	}
	return time.Since(start)
}

func pingpong(n int) time.Duration {
	a, b := make(chan uint64), make(chan uint64)
	start := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			b <- <-a
		}
	}()
	for i := 0; i < n; i++ {
		a <- uint64(i)
		<-b
	}
	return time.Since(start)
}

func select4(n int) time.Duration {
	var cs [4]chan uint64
	for k := range cs {
		cs[k] = make(chan uint64, capacity)
	}
	start := time.Now()
	for k := 0; k < 4; k++ {
		share := n / 4
		if k < n%4 {
			share++
		}
		go func(c chan uint64, m int) {
			for i := 0; i < m; i++ {
				c <- uint64(i + 1)
			}
		}(cs[k], share)
	}
	var sum uint64
	for i := 0; i < n; i++ {
		select {
		case v := <-cs[0]:
			sum += v
		case v := <-cs[1]:
			sum += v
		case v := <-cs[2]:
			sum += v
		case v := <-cs[3]:
			sum += v
		}
	}
	_ = sum
	return time.Since(start)
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

// runForParcBench is one run of one case for bench_run_external.
func runForParcBench(ops string) {
	n, err := strconv.Atoi(ops)
	threads, _ := strconv.Atoi(os.Getenv("PARC_BENCH_THREADS"))
	arg, _ := strconv.Atoi(os.Getenv("PARC_BENCH_ARG"))
	var f func(int) time.Duration
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "chan_buffered":
			if arg >= 1 && threads > arg {
				f = func(n int) time.Duration { return buffered(n, arg, threads-arg) }
			}
		case "chan_pingpong":
			f = pingpong
		case "chan_select4":
			f = select4
		}
	}
	if err != nil || n <= 0 || f == nil {
		fmt.Fprintln(os.Stderr, "usage: PARC_BENCH_OPS=n [PARC_BENCH_THREADS=t PARC_BENCH_ARG=p] chan_bench CASE")
		os.Exit(2)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
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
	measure("chan_buffered 1P1C", 2000000, rounds, func(n int) time.Duration { return buffered(n, 1, 1) })
	measure("chan_buffered 3P1C", 2000000, rounds, func(n int) time.Duration { return buffered(n, 3, 1) })
	measure("chan_buffered 2P2C", 2000000, rounds, func(n int) time.Duration { return buffered(n, 2, 2) })
	measure("chan_pingpong round trip", 200000, rounds, pingpong)
	measure("chan_select4", 2000000, rounds, select4)
}
