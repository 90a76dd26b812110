// bench/fiber/pingpong.go — Go's peer for parc-bench-fiber: two goroutines
// hand a token back and forth over unbuffered channels on one OS thread
// (GOMAXPROCS=1, as parc's two fibers share one worker). Prints ns per
// round trip.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	rounds := 200000
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	runtime.GOMAXPROCS(1)
	ping, pong := make(chan int), make(chan int)
	go func() {
		for i := 0; i < rounds; i++ {
			pong <- <-ping
		}
	}()
	start := time.Now()
	for i := 0; i < rounds; i++ {
		ping <- i
		<-pong
	}
	fmt.Println(float64(time.Since(start).Nanoseconds()) / float64(rounds))
}
