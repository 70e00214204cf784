%% @doc The rotp benchmark suite on the BEAM, to compare against the Rust suite
%% (`cargo bench --bench suite`) on the same machine.
%%
%% Each benchmark prints exactly one line to standard output:
%%
%%   bench=<name> impl=beam n=<N> secs=<wall seconds> rate=<ops/s> extra=<k:v,...|->
%%
%% Progress and errors go to standard error. Usage:
%%
%%   erl -noshell -pa EBIN -run rotp_bench main <bench|all> [N] -s init stop
%%
%% (`-s rotp_bench main <bench> [N]` works as well). `all` runs every benchmark
%% once, in the order of benches/0; an N given with `all` applies to each.
%% Every benchmark runs in a fresh process, times its work with
%% erlang:monotonic_time/0, and stops whatever it started before it returns.
-module(rotp_bench).

-export([main/1]).

-define(RING_SIZE, 1000).
-define(FLOOD, 10_000_000).
-define(WORKER, rotp_bench_worker).
%% A timer that is armed and cancelled long before it could fire.
-define(CANCELLED_TIMER_MS, 3_600_000).
-define(FIRED_TIMER_MS, 1).

%% {Name, Fun, default N}, in the order of the suite's table.
benches() ->
    [{"pingpong", fun pingpong/1, 1_000_000},
     {"ring", fun ring/1, 10_000_000},
     {"spawn", fun spawn_many/1, 1_000_000},
     {"cast_throughput", fun cast_throughput/1, 10_000_000},
     {"call_latency", fun call_latency/1, 1_000_000},
     {"call_external", fun call_external/1, 1_000_000},
     {"call_parallel", fun call_parallel/1, 4_000_000},
     {"supervisor_restart", fun supervisor_restart/1, 1_000},
     {"fairness", fun fairness/1, 10_000},
     {"timers", fun timers/1, 1_000_000},
     {"registry_lookup", fun registry_lookup/1, 4_000_000},
     {"registry_register", fun registry_register/1, 500_000},
     {"table_read", fun table_read/1, 4_000_000},
     {"table_write", fun table_write/1, 2_000_000},
     {"read_through_server", fun read_through_server/1, 1_000_000}].

%%% Entry point

main(Args) ->
    log_to_stderr(),
    case [to_list(A) || A <- Args] of
        ["all"] -> lists:foreach(fun(B) -> run(B, default) end, benches());
        ["all", N] -> lists:foreach(fun(B) -> run(B, parse_n(N)) end, benches());
        [Name] -> run(find_bench(Name), default);
        [Name, N] -> run(find_bench(Name), parse_n(N));
        _ -> usage()
    end.

run({Name, Fun, Default}, NArg) ->
    N = case NArg of default -> Default; _ -> NArg end,
    io:format(standard_error, "beam: running ~s n=~b~n", [Name, N]),
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Parent ! {self(), Fun(N)} end),
    receive
        {Pid, {RunN, Secs, Extra}} ->
            demonitor(Ref, [flush]),
            print_result(Name, RunN, Secs, Extra);
        {'DOWN', Ref, process, Pid, Reason} ->
            fail("~s failed: ~p", [Name, Reason])
    end,
    erlang:garbage_collect().

print_result(Name, N, Secs, Extra) ->
    Rate = case Secs > 0 of true -> N / Secs; false -> 0.0 end,
    io:format("bench=~s impl=beam n=~b secs=~.6f rate=~.1f extra=~s~n",
              [Name, N, Secs, Rate, format_extra(Extra)]).

format_extra([]) ->
    "-";
format_extra(Extra) ->
    lists:join(",", [[atom_to_list(K), ":", format_number(V)] || {K, V} <- Extra]).

format_number(V) when is_integer(V) -> integer_to_list(V);
format_number(V) when is_float(V), abs(V) < 1 -> float_to_list(V, [{decimals, 6}, compact]);
format_number(V) when is_float(V) -> float_to_list(V, [{decimals, 3}, compact]).

find_bench(Name) ->
    case lists:keyfind(Name, 1, benches()) of
        false -> usage();
        Bench -> Bench
    end.

parse_n(S) ->
    try list_to_integer(S) of
        N when N > 0 -> N;
        _ -> usage()
    catch
        error:badarg -> usage()
    end.

usage() ->
    Names = lists:join("|", [Name || {Name, _, _} <- benches()]),
    fail("usage: rotp_bench main <~s|all> [N]", [Names]).

fail(Format, Args) ->
    io:format(standard_error, "beam: " ++ Format ++ "~n", Args),
    erlang:halt(1).

to_list(A) when is_atom(A) -> atom_to_list(A);
to_list(S) when is_list(S) -> S.

%% With -noshell the default logger handler writes to standard output, which
%% must carry nothing but result lines.
log_to_stderr() ->
    case logger:get_handler_config(default) of
        {ok, #{module := logger_std_h} = Config} ->
            Kept = maps:with([level, filters, filter_default, formatter], Config),
            ok = logger:remove_handler(default),
            ok = logger:add_handler(default, logger_std_h,
                                    Kept#{config => #{type => standard_error}});
        _ ->
            ok
    end.

%%% pingpong: two processes exchange a message and its reply, N round trips.

pingpong(N) ->
    Pong = spawn_link(fun pong/0),
    {Secs, ok} = timed(fun() -> ping(Pong, N) end),
    kill_all([Pong]),
    {N, Secs, [{ns_per_rt, Secs * 1.0e9 / N}]}.

ping(_Pong, 0) ->
    ok;
ping(Pong, K) ->
    Pong ! {ping, self()},
    receive pong -> ping(Pong, K - 1) end.

pong() ->
    receive
        {ping, From} ->
            From ! pong,
            pong()
    end.

%%% ring: 1,000 processes in a ring pass one token around for N hops; the
%%% member that receives the token with no hops left reports back.

ring(N) ->
    Parent = self(),
    Members = [spawn_link(fun() -> ring_member(Parent) end) || _ <- lists:seq(1, ?RING_SIZE)],
    [First | Rest] = Members,
    lists:foreach(fun({Member, Next}) -> Member ! {next, Next} end,
                  lists:zip(Members, Rest ++ [First])),
    {Secs, ok} = timed(fun() ->
                               First ! {token, N},
                               receive ring_done -> ok end
                       end),
    kill_all(Members),
    {N, Secs, []}.

ring_member(Parent) ->
    receive {next, Next} -> ring_loop(Next, Parent) end.

ring_loop(Next, Parent) ->
    receive
        {token, 0} ->
            Parent ! ring_done,
            ring_loop(Next, Parent);
        {token, Hops} ->
            Next ! {token, Hops - 1},
            ring_loop(Next, Parent)
    end.

%%% spawn: spawn N processes that wait in their mailbox, then kill them all.
%%%
%%% The clock stops once every process has run and is waiting in receive (the
%%% run queues are empty and the last one spawned is waiting). bytes_per_proc
%%% is the growth of erlang:memory(processes) over N, less the growth of the
%%% spawning process itself (which holds the list of pids); rss_per_proc is
%%% the growth of the VM's resident set (VmRSS) over N, as the Rust suite
%%% measures it, when /proc is there. exit_secs is the time from the first
%%% kill until the process count is back where it started.

spawn_many(N) ->
    ensure_process_room(N),
    erlang:garbage_collect(),
    Count0 = erlang:system_info(process_count),
    Mem0 = erlang:memory(processes),
    Own0 = own_memory(),
    Rss0 = rss_bytes(),
    {Secs, Pids} = timed(fun() ->
                                 Spawned = spawn_waiters(N, []),
                                 await_waiting(hd(Spawned)),
                                 Spawned
                         end),
    PerProc = (erlang:memory(processes) - Mem0 - (own_memory() - Own0)) / N,
    RssExtra = case {Rss0, rss_bytes()} of
                   {undefined, _} -> [];
                   {_, undefined} -> [];
                   {R0, R1} -> [{rss_per_proc, (R1 - R0) / N}]
               end,
    {ExitSecs, ok} = timed(fun() ->
                                   lists:foreach(fun(P) -> exit(P, kill) end, Pids),
                                   await_process_count(Count0)
                           end),
    {N, Secs, [{bytes_per_proc, PerProc}] ++ RssExtra ++ [{exit_secs, ExitSecs}]}.

spawn_waiters(0, Acc) ->
    Acc;
spawn_waiters(K, Acc) ->
    spawn_waiters(K - 1, [spawn(fun waiter/0) | Acc]).

waiter() ->
    receive stop -> ok end.

await_waiting(Last) ->
    case {erlang:statistics(total_run_queue_lengths), process_info(Last, status)} of
        {0, {status, waiting}} -> ok;
        _ -> erlang:yield(), await_waiting(Last)
    end.

await_process_count(Count) ->
    case erlang:system_info(process_count) =< Count of
        true -> ok;
        false -> erlang:yield(), await_process_count(Count)
    end.

own_memory() ->
    {memory, Bytes} = process_info(self(), memory),
    Bytes.

rss_bytes() ->
    case file:read_file("/proc/self/status") of
        {ok, Status} ->
            case re:run(Status, "VmRSS:\\s+(\\d+) kB", [{capture, all_but_first, list}]) of
                {match, [Kb]} -> list_to_integer(Kb) * 1024;
                nomatch -> undefined
            end;
        {error, _} ->
            undefined
    end.

%%% cast_throughput: one producer casts N increments to a gen_server counter,
%%% then one call reads the count, which must equal N.

cast_throughput(N) ->
    Server = start_server(),
    {Secs, Count} = timed(fun() ->
                                  cast_n(Server, N),
                                  gen_server:call(Server, count, infinity)
                          end),
    Count =:= N orelse error({count_mismatch, Count, N}),
    ok = gen_server:stop(Server),
    {N, Secs, []}.

cast_n(_Server, 0) ->
    ok;
cast_n(Server, K) ->
    gen_server:cast(Server, incr),
    cast_n(Server, K - 1).

%%% call_latency: one client process makes N sequential calls to a gen_server
%%% that replies at once.

call_latency(N) ->
    Server = start_server(),
    {Secs, ok} = timed(fun() -> call_n(Server, N) end),
    ok = gen_server:stop(Server),
    {N, Secs, [{ns_per_call, Secs * 1.0e9 / N}]}.

call_n(_Server, 0) ->
    ok;
call_n(Server, K) ->
    pong = gen_server:call(Server, ping, infinity),
    call_n(Server, K - 1).

%%% call_external: the Rust suite calls from a plain OS thread outside the
%%% runtime. All BEAM code runs in processes, so the nearest equivalent is a
%%% plain (non-OTP) process making N sequential gen_server calls, which is the
%%% same measurement as call_latency. raw_ns_per_call times N raw `!`/receive
%%% request/reply round trips between two plain processes, the counterpart of
%%% the Rust suite's raw two-thread channel loop.

call_external(N) ->
    Server = start_server(),
    {Secs, ok} = in_plain_process(fun() -> timed(fun() -> call_n(Server, N) end) end),
    ok = gen_server:stop(Server),
    Responder = spawn_link(fun responder/0),
    {RawSecs, ok} = in_plain_process(fun() -> timed(fun() -> request_n(Responder, N) end) end),
    kill_all([Responder]),
    {N, Secs, [{ns_per_call, Secs * 1.0e9 / N}, {raw_ns_per_call, RawSecs * 1.0e9 / N}]}.

in_plain_process(Fun) ->
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Parent ! {self(), Fun()} end),
    receive
        {Pid, Result} ->
            demonitor(Ref, [flush]),
            Result;
        {'DOWN', Ref, process, Pid, Reason} ->
            exit(Reason)
    end.

request_n(_Responder, 0) ->
    ok;
request_n(Responder, K) ->
    Responder ! {request, self()},
    receive {reply, Responder} -> request_n(Responder, K - 1) end.

responder() ->
    receive
        {request, From} ->
            From ! {reply, self()},
            responder()
    end.

%%% call_parallel: 2 x schedulers_online client processes, each making
%%% N / clients sequential calls to its own gen_server, all at once.

call_parallel(N) ->
    Clients = 2 * erlang:system_info(schedulers_online),
    PerClient = max(1, N div Clients),
    Parent = self(),
    Servers = [start_server() || _ <- lists:seq(1, Clients)],
    Pids = [spawn_link(fun() ->
                               receive go -> ok end,
                               call_n(Server, PerClient),
                               Parent ! {done, self()}
                       end)
            || Server <- Servers],
    {Secs, ok} = timed(fun() ->
                               lists:foreach(fun(P) -> P ! go end, Pids),
                               lists:foreach(fun(P) -> receive {done, P} -> ok end end, Pids)
                       end),
    lists:foreach(fun(S) -> ok = gen_server:stop(S) end, Servers),
    {PerClient * Clients, Secs, []}.

%%% supervisor_restart: a one_for_one supervisor's registered worker crashes
%%% on demand N times; each round lasts until the restarted worker answers a
%%% call made by its registered name.
%%%
%%% After the worker is seen to die, one call to the supervisor waits for it
%%% to handle the exit (and so restart the child) instead of spinning on the
%%% name, which would take CPU from the supervisor; if the call overtook the
%%% exit signal, the name is polled until the child is back.
%%%
%%% Logging is switched off for the run: every crash would otherwise format a
%%% crash report and a supervisor report, which dominates the cost (the Rust
%%% suite switches its reports off the same way: ReportRoute::Off).

supervisor_restart(N) ->
    {ok, Sup} = rotp_bench_sup:start_link(?WORKER, N),
    pong = gen_server:call(?WORKER, ping),
    #{level := Level} = logger:get_primary_config(),
    ok = logger:set_primary_config(level, none),
    {Secs, ok} = try timed(fun() -> crash_n(Sup, N) end)
                 after logger:set_primary_config(level, Level)
                 end,
    unlink(Sup),
    Ref = monitor(process, Sup),
    exit(Sup, shutdown),
    receive {'DOWN', Ref, process, Sup, _} -> ok end,
    {N, Secs, []}.

crash_n(_Sup, 0) ->
    ok;
crash_n(Sup, K) ->
    Worker = whereis(?WORKER),
    Ref = monitor(process, Worker),
    gen_server:cast(Worker, crash),
    receive {'DOWN', Ref, process, Worker, _} -> ok end,
    _ = supervisor:count_children(Sup),
    await_worker(),
    crash_n(Sup, K - 1).

await_worker() ->
    try gen_server:call(?WORKER, ping, infinity) of
        pong -> ok
    catch
        exit:{noproc, _} -> erlang:yield(), await_worker()
    end.

%%% fairness: one gen_server is flooded with 10,000,000 casts from a producer
%%% while a client makes N calls to a second, light gen_server; the result is
%%% the distribution of the light server's reply latency. The client starts
%%% once the first 1% of the flood has been sent.

fairness(N) ->
    Heavy = start_server(),
    Light = start_server(),
    Parent = self(),
    Head = ?FLOOD div 100,
    Flooder = spawn_link(fun() ->
                                 cast_n(Heavy, Head),
                                 Parent ! flood_started,
                                 cast_n(Heavy, ?FLOOD - Head)
                         end),
    receive flood_started -> ok end,
    {Secs, Latencies} = timed(fun() -> timed_calls(Light, N, []) end),
    case {process_info(Heavy, message_queue_len), is_process_alive(Flooder)} of
        {{message_queue_len, 0}, false} ->
            io:format(standard_error, "beam: fairness: the flood was over before the pings~n", []);
        _ ->
            ok
    end,
    kill_all([Flooder, Heavy]),
    ok = gen_server:stop(Light),
    Sorted = lists:sort(Latencies),
    {N, Secs, [{p50_us, percentile(Sorted, N, 0.50)}, {p99_us, percentile(Sorted, N, 0.99)}]}.

timed_calls(_Server, 0, Acc) ->
    Acc;
timed_calls(Server, K, Acc) ->
    T0 = erlang:monotonic_time(),
    pong = gen_server:call(Server, ping, infinity),
    T1 = erlang:monotonic_time(),
    timed_calls(Server, K - 1, [T1 - T0 | Acc]).

%% Nearest-rank percentile of a sorted list of native time spans, in µs.
percentile(Sorted, Len, P) ->
    Native = lists:nth(max(1, ceil(P * Len)), Sorted),
    erlang:convert_time_unit(Native, native, nanosecond) / 1000.

%%% timers: N processes each arm a timer with erlang:send_after/3 and cancel it
%%% with erlang:cancel_timer/1, then arm a 1 ms timer and wait for its message;
%%% the clock stops when every process has received its timer message.

timers(N) ->
    ensure_process_room(N),
    %% The replies arrive while this process is still spawning; kept on the
    %% heap, every garbage collection would copy the whole backlog again.
    process_flag(message_queue_data, off_heap),
    Parent = self(),
    {Secs, ok} = timed(fun() ->
                               spawn_timers(N, Parent),
                               await_n(N, timer_fired)
                       end),
    {N, Secs, []}.

spawn_timers(0, _Parent) ->
    ok;
spawn_timers(K, Parent) ->
    spawn(fun() -> timer_process(Parent) end),
    spawn_timers(K - 1, Parent).

timer_process(Parent) ->
    Cancelled = erlang:send_after(?CANCELLED_TIMER_MS, self(), cancelled),
    Left = erlang:cancel_timer(Cancelled),
    true = is_integer(Left),
    erlang:send_after(?FIRED_TIMER_MS, self(), fired),
    receive fired -> Parent ! timer_fired end.

await_n(0, _Msg) ->
    ok;
await_n(K, Msg) ->
    receive Msg -> await_n(K - 1, Msg) end.

%%% Helpers

start_server() ->
    {ok, Server} = rotp_bench_server:start_link(),
    Server.

%%% The store benchmarks. Readers are processes; they read keys chosen by a
%%% small LCG over ?STORE_KEYS keys, all started together.

-define(STORE_KEYS, 100_000).
-define(READERS, 4).
-define(REG, 'Elixir.Registry').

next_key(S) ->
    S1 = (S * 1103515245 + 12345) band 16#7FFFFFFF,
    {S1 rem ?STORE_KEYS, S1}.

%% Runs ?READERS processes doing N div ?READERS calls of Read(Key) each
%% (true when found); returns {Secs, Hits}.
readers(N, Read) ->
    Per = N div ?READERS,
    Parent = self(),
    Pids = [spawn_link(fun() ->
                               receive go -> ok end,
                               Parent ! {hits, self(), read_n(Read, Per, Seed, 0)}
                       end)
            || Seed <- lists:seq(1, ?READERS)],
    timed(fun() ->
                  lists:foreach(fun(P) -> P ! go end, Pids),
                  lists:sum([receive {hits, P, H} -> H end || P <- Pids])
          end).

read_n(_Read, 0, _S, Hits) ->
    Hits;
read_n(Read, K, S, Hits) ->
    {Key, S1} = next_key(S),
    case Read(Key) of
        true -> read_n(Read, K - 1, S1, Hits + 1);
        false -> read_n(Read, K - 1, S1, Hits)
    end.

start_registry() ->
    {ok, _} = application:ensure_all_started(elixir),
    {ok, Sup} = ?REG:start_link([{keys, unique}, {name, rotp_bench_reg}]),
    unlink(Sup),
    Sup.

%%% registry_lookup: an Elixir Registry of 100k unique keys held by one
%%% process; 4 reader processes look up random keys.

registry_lookup(N) ->
    Sup = start_registry(),
    Holder = spawn_link(fun() ->
                                [{ok, _} = ?REG:register(rotp_bench_reg, K, K)
                                 || K <- lists:seq(0, ?STORE_KEYS - 1)],
                                receive stop -> ok end
                        end),
    wait_registry_count(?STORE_KEYS),
    {Secs, Hits} = readers(N, fun(K) -> ?REG:lookup(rotp_bench_reg, K) =/= [] end),
    Total = N div ?READERS * ?READERS,
    Hits =:= Total orelse error({hits, Hits, Total}),
    kill_all([Holder, Sup]),
    {Total, Secs, [{readers, ?READERS}, {keys, ?STORE_KEYS},
                   {ns_per_lookup, Secs * 1.0e9 / Total}]}.

wait_registry_count(Count) ->
    case ?REG:count(rotp_bench_reg) of
        Count -> ok;
        _ -> timer:sleep(1), wait_registry_count(Count)
    end.

%%% registry_register: one process registers and unregisters N keys, a pair
%%% at a time; then 100 processes holding 1,000 keys each are killed and the
%%% clean-up is timed until the count is zero.

registry_register(N) ->
    Sup = start_registry(),
    {Secs, ok} = in_plain_process(fun() -> timed(fun() -> reg_unreg(N) end) end),
    Holders = [spawn(fun() ->
                             [{ok, _} = ?REG:register(rotp_bench_reg, P * 1000 + K, K)
                              || K <- lists:seq(0, 999)],
                             receive stop -> ok end
                     end)
               || P <- lists:seq(0, 99)],
    wait_registry_count(100_000),
    {Cleanup, ok} = timed(fun() ->
                                  lists:foreach(fun(P) -> exit(P, kill) end, Holders),
                                  wait_registry_empty()
                          end),
    kill_all([Sup]),
    {N, Secs, [{cleanup_ns_per_key, Cleanup * 1.0e9 / 100_000}]}.

reg_unreg(0) ->
    ok;
reg_unreg(K) ->
    {ok, _} = ?REG:register(rotp_bench_reg, K, K),
    ok = ?REG:unregister(rotp_bench_reg, K),
    reg_unreg(K - 1).

wait_registry_empty() ->
    case ?REG:count(rotp_bench_reg) of
        0 -> ok;
        _ -> erlang:yield(), wait_registry_empty()
    end.

%%% table_read: a protected ETS set with read_concurrency, 100k keys; its
%%% owner keeps updating random keys while 4 reader processes look up random
%%% keys.

table_read(N) ->
    Parent = self(),
    Owner = spawn_link(fun() ->
                               T = ets:new(rotp_bench_table, [set, protected, {read_concurrency, true}]),
                               ets:insert(T, [{K, K} || K <- lists:seq(0, ?STORE_KEYS - 1)]),
                               Parent ! {table, T},
                               table_writer(T, 7, 0)
                       end),
    T = receive {table, Tab} -> Tab end,
    {Secs, Hits} = readers(N, fun(K) -> ets:lookup(T, K) =/= [] end),
    Owner ! {stop, self()},
    Writes = receive {writes, W} -> W end,
    Total = N div ?READERS * ?READERS,
    Hits =:= Total orelse error({hits, Hits, Total}),
    kill_all([Owner]),
    {Total, Secs, [{readers, ?READERS}, {writes, Writes},
                   {ns_per_lookup, Secs * 1.0e9 / Total}]}.

table_writer(T, S, Writes) ->
    receive
        {stop, From} -> From ! {writes, Writes}, receive never -> ok end
    after 0 ->
        S1 = write_batch(T, S, 1000),
        table_writer(T, S1, Writes + 1000)
    end.

write_batch(_T, S, 0) ->
    S;
write_batch(T, S, K) ->
    {Key, S1} = next_key(S),
    ets:insert(T, {Key, Key + 1}),
    write_batch(T, S1, K - 1).

%%% table_write: the owner inserts N distinct keys into a protected set.

table_write(N) ->
    in_plain_process(fun() ->
                             T = ets:new(rotp_bench_write, [set, protected]),
                             {Secs, ok} = timed(fun() -> insert_n(T, N) end),
                             N = ets:info(T, size),
                             ets:delete(T),
                             {N, Secs, []}
                     end).

insert_n(_T, 0) ->
    ok;
insert_n(T, K) ->
    ets:insert(T, {K, K}),
    insert_n(T, K - 1).

%%% read_through_server: the reads of table_read as gen_server calls to a
%%% server holding the 100k keys in a map.

read_through_server(N) ->
    {ok, Server} = rotp_bench_store:start_link(?STORE_KEYS),
    {Secs, Hits} = readers(N, fun(K) -> gen_server:call(Server, {get, K}, infinity) =/= undefined end),
    Total = N div ?READERS * ?READERS,
    Hits =:= Total orelse error({hits, Hits, Total}),
    ok = gen_server:stop(Server),
    {Total, Secs, [{readers, ?READERS}, {ns_per_lookup, Secs * 1.0e9 / Total}]}.

timed(Fun) ->
    T0 = erlang:monotonic_time(),
    Result = Fun(),
    T1 = erlang:monotonic_time(),
    {erlang:convert_time_unit(T1 - T0, native, nanosecond) / 1.0e9, Result}.

%% Unlinks and kills Pids, returning once all of them are gone.
kill_all(Pids) ->
    Refs = [begin
                unlink(P),
                Ref = monitor(process, P),
                exit(P, kill),
                Ref
            end || P <- Pids],
    lists:foreach(fun(Ref) -> receive {'DOWN', Ref, process, _, _} -> ok end end, Refs).

ensure_process_room(N) ->
    Limit = erlang:system_info(process_limit),
    case Limit - erlang:system_info(process_count) > N + 1000 of
        true -> ok;
        false -> fail("~b processes do not fit under the process limit (~b); raise it with erl +P",
                      [N, Limit])
    end.
