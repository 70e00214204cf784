%% @doc The gen_server the benchmarks talk to: a counter that also answers
%% pings and can be told to crash.
%%
%%   cast incr  -> count + 1          call count -> the count
%%   call ping  -> pong               cast crash -> the server dies (error)
-module(rotp_bench_server).
-behaviour(gen_server).

-export([start_link/0, start_link/1]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link() ->
    gen_server:start_link(?MODULE, [], []).

%% Registered under Name, as a supervisor's child.
start_link(Name) ->
    gen_server:start_link({local, Name}, ?MODULE, [], []).

init([]) ->
    {ok, 0}.

handle_call(ping, _From, Count) ->
    {reply, pong, Count};
handle_call(count, _From, Count) ->
    {reply, Count, Count}.

handle_cast(incr, Count) ->
    {noreply, Count + 1};
handle_cast(crash, _Count) ->
    error(crash_on_demand).
