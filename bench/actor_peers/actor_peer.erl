%% Erlang/OTP peer of bench/bench_actor.c (needs erl: Debian's erlang-base).
%% Run: bench/actor_peers/run_erlang.sh
%%   spawn: spawn N processes, send each one message, wait until all done
%%   ring: a token around a ring of 1000 processes for H hops
%%   pingpong: two processes bounce a message R times
%%   counting: this process streams C integers to one counting process
%%     (Savina "Counting"; bench_actor.c's actor_counting)
%%   fj_throughput: one message to each of 60 counting processes in turn,
%%     C in all (Savina "Fork-Join throughput"; actor_fj_throughput)
-module(actor_peer).
-export([main/0]).

main() ->
    N = 1000000,
    {TS, ok} = timer:tc(fun() -> spawn_test(N) end),
    io:format("erlang actor_spawn: ~.3f us per process~n", [TS / N]),
    Mem = idle_memory(10000),
    io:format("erlang idle memory: ~p bytes per process~n", [Mem]),
    H = 10000000,
    {TR, ok} = timer:tc(fun() -> ring(1000, H) end),
    io:format("erlang actor_ring: ~.3f M hops/s~n", [H / TR]),
    R = 1000000,
    {TP, ok} = timer:tc(fun() -> pingpong(R) end),
    io:format("erlang actor_pingpong: ~.1f ns per round trip~n", [TP * 1000 / R]),
    C = 2000000,
    {TC, ok} = timer:tc(fun() -> stream(C, 1) end),
    io:format("erlang actor_counting: ~.1f ns per message~n", [TC * 1000 / C]),
    {TF, ok} = timer:tc(fun() -> stream(C, 60) end),
    io:format("erlang actor_fj_throughput 60: ~.1f ns per message~n",
              [TF * 1000 / C]),
    halt().

%% C messages 1..C round-robin to A counters; checks every count and sum.
stream(C, A) ->
    Self = self(),
    Ps = list_to_tuple([spawn(fun() -> counter(Self, 0, 0) end)
                        || _ <- lists:seq(1, A)]),
    send_all(Ps, A, 1, C),
    [element(K, Ps) ! done || K <- lists:seq(1, A)],
    {N, S} = collect(A, 0, 0),
    case {N, S} of
        {C, Sum} when Sum =:= C * (C + 1) div 2 -> ok;
        _ -> erlang:error(count_check_failed)
    end.

send_all(_, _, I, C) when I > C -> ok;
send_all(Ps, A, I, C) ->
    element((I rem A) + 1, Ps) ! I,
    send_all(Ps, A, I + 1, C).

counter(Parent, N, S) ->
    receive
        done -> Parent ! {count, N, S};
        V -> counter(Parent, N + 1, S + V)
    end.

collect(0, N, S) -> {N, S};
collect(K, N, S) -> receive {count, N1, S1} -> collect(K - 1, N + N1, S + S1) end.

spawn_test(N) ->
    Self = self(),
    [spawn(fun() -> receive go -> Self ! done end end) ! go || _ <- lists:seq(1, N)],
    wait(N).

wait(0) -> ok;
wait(K) -> receive done -> wait(K - 1) end.

idle_memory(N) ->
    Before = erlang:memory(processes),
    Ps = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
    After = erlang:memory(processes),
    [P ! stop || P <- Ps],
    (After - Before) div N.

ring(N, H) ->
    %% N - 1 spawned processes in a chain that ends at this process, which
    %% closes the ring by forwarding every token to the first one.
    Self = self(),
    First = lists:foldl(fun(_, Next) -> spawn(fun() -> hop(Next) end) end,
                        Self, lists:seq(1, N - 1)),
    First ! {token, H},
    ring_member(First).

ring_member(First) ->
    receive
        {token, 0} -> First ! finished, ring_member(First);
        {token, K} -> First ! {token, K - 1}, ring_member(First);
        finished -> ok
    end.

hop(Next) ->
    receive
        {token, 0} -> Next ! finished, hop(Next);
        {token, K} -> Next ! {token, K - 1}, hop(Next);
        finished -> Next ! finished
    end.

pingpong(R) ->
    Pong = spawn(fun pong/0),
    ping(Pong, R).

ping(Pong, 0) -> Pong ! stop, ok;
ping(Pong, K) -> Pong ! {self(), ping}, receive pong -> ping(Pong, K - 1) end.

pong() ->
    receive {From, ping} -> From ! pong, pong(); stop -> ok end.
