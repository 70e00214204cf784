%% @doc The gen_server of the read_through_server benchmark: a map of keys
%% 0..Keys-1 to themselves, read with call {get, Key}.
-module(rotp_bench_store).
-behaviour(gen_server).

-export([start_link/1]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link(Keys) ->
    gen_server:start_link(?MODULE, Keys, []).

init(Keys) ->
    {ok, maps:from_list([{K, K} || K <- lists:seq(0, Keys - 1)])}.

handle_call({get, K}, _From, Map) ->
    {reply, maps:get(K, Map, undefined), Map}.

handle_cast(_Msg, Map) ->
    {noreply, Map}.
