/*
 * bench/pool_peers/ForkJoinBench.java — Java's ForkJoinPool on the same
 * workloads as bench/bench_pool.c, for the ratios in parc's report.
 *
 *   submit    1,000,000 empty Runnables given to ForkJoinPool(2).execute()
 *             from one outside thread, until all have run (a LongAdder the
 *             tasks bump, polled every 20 us; the clock stops when it
 *             reaches the total).
 *   forkjoin  a binary tree down to leaves of one (2^20 leaves): fork the
 *             left half, compute the right, join. Reported per fork (one
 *             fork per inner node, as parc's case submits one task per
 *             inner node) and per task object (two per split).
 *   fib       naive fork/join fib(30), ForkJoinPool(2) against serial.
 *
 * Every figure is the median of several rounds after JIT warm-up rounds.
 * Run through run_java.sh (compiles into /tmp).
 */
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

public final class ForkJoinBench {
    static final int WORKERS = 2;

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    /* ---- submit ---- */
    static double submitRound(ForkJoinPool pool, int n) {
        LongAdder done = new LongAdder();
        Runnable r = done::increment;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++)
            pool.execute(r);
        while (done.sum() < n)
            LockSupport.parkNanos(20_000); // sleep-poll, as parc's case: a spinning
                                           // submitter would take a core from the workers
        return (System.nanoTime() - t0) / 1e9;
    }

    /* ---- forkjoin over a range ---- */
    static final class Range extends RecursiveTask<Long> {
        final long lo, hi;
        Range(long lo, long hi) { this.lo = lo; this.hi = hi; }
        @Override protected Long compute() {
            long n = hi - lo;
            if (n <= 1)
                return n;
            long mid = lo + n / 2;
            Range left = new Range(lo, mid);
            left.fork();
            long r = new Range(mid, hi).compute();
            return left.join() + r;
        }
    }

    /* ---- fib ---- */
    static final class Fib extends RecursiveTask<Long> {
        final int n;
        Fib(int n) { this.n = n; }
        @Override protected Long compute() {
            if (n < 2)
                return (long) n;
            Fib a = new Fib(n - 1);
            a.fork();
            long b = new Fib(n - 2).compute();
            return a.join() + b;
        }
    }

    static long fibSerial(int n) { return n < 2 ? n : fibSerial(n - 1) + fibSerial(n - 2); }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int warm = 5;
        ForkJoinPool pool = new ForkJoinPool(WORKERS);

        final int N = 1_000_000;
        double[] s = new double[rounds];
        for (int i = 0; i < warm; i++) submitRound(pool, N);
        for (int i = 0; i < rounds; i++) s[i] = submitRound(pool, N);
        double sub = median(s);
        System.out.printf("java submit: ForkJoinPool(%d).execute x %d empty tasks from one outside thread: %.1f ms, %.2f M tasks/s%n",
                WORKERS, N, sub * 1e3, N / sub / 1e6);

        final long LEAVES = 1L << 20;
        double[] f = new double[rounds];
        for (int i = 0; i < warm + rounds; i++) {
            long t0 = System.nanoTime();
            long v = pool.invoke(new Range(0, LEAVES));
            double secs = (System.nanoTime() - t0) / 1e9;
            if (v != LEAVES) throw new AssertionError("range sum " + v);
            if (i >= warm) f[i - warm] = secs;
        }
        double fj = median(f);
        System.out.printf("java forkjoin: tree of %d leaves: %.1f ms, %.2f M forks/s (%.2f M task objects/s)%n",
                LEAVES, fj * 1e3, (LEAVES - 1) / fj / 1e6, (2 * LEAVES - 1) / fj / 1e6);

        double[] fp = new double[rounds], fsr = new double[rounds];
        long want = fibSerial(30);
        for (int i = 0; i < warm + rounds; i++) {
            long t0 = System.nanoTime();
            long v = pool.invoke(new Fib(30));
            double par = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            long w = fibSerial(30);
            double ser = (System.nanoTime() - t0) / 1e9;
            if (v != want || w != want) throw new AssertionError("fib");
            if (i >= warm) { fp[i - warm] = par; fsr[i - warm] = ser; }
        }
        System.out.printf("java fib(30): ForkJoinPool(%d) %.1f ms, serial %.1f ms, speed-up %.2fx%n",
                WORKERS, median(fp) * 1e3, median(fsr) * 1e3, median(fsr) / median(fp));
        pool.shutdown();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }
}
