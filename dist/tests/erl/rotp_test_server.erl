%% A gen_server for rotp to call and cast: a counter.
-module(rotp_test_server).
-behaviour(gen_server).
-export([start/1, init/1, handle_call/3, handle_cast/2, handle_info/2]).

start(Name) ->
    gen_server:start({local, Name}, ?MODULE, 0, []).

init(N) -> {ok, N}.

handle_call(get, _From, N) -> {reply, N, N};
handle_call(increment, _From, N) -> {reply, N + 1, N + 1};
handle_call({add, K}, _From, N) -> {reply, {ok, N + K}, N + K};
handle_call({echo, T}, _From, N) -> {reply, T, N};
handle_call({sleep, Ms}, _From, N) -> timer:sleep(Ms), {reply, slept, N};
handle_call(crash, _From, _N) -> exit(crashed);
handle_call({defer, Ms}, From, N) ->
    timer:apply_after(Ms, gen_server, reply, [From, deferred]),
    {noreply, N}.

handle_cast({add, K}, N) -> {noreply, N + K};
handle_cast(stop, N) -> {stop, normal, N}.

handle_info(_, N) -> {noreply, N}.
