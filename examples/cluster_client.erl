#!/usr/bin/env escript
%% Calls the rotp counter of examples/cluster.rs like any gen_server.
%%
%%   escript examples/cluster_client.erl rotp@127.0.0.1 rotp-example

main([Node0, Cookie]) ->
    Me = list_to_atom("cluster_client_" ++ os:getpid() ++ "@127.0.0.1"),
    {ok, _} = net_kernel:start([Me, longnames]),
    Node = list_to_atom(Node0),
    erlang:set_cookie(Node, list_to_atom(Cookie)),
    pong = net_adm:ping(Node),
    Counter = {counter, Node},
    show(increment, gen_server:call(Counter, increment)),
    show('{add, 10}', gen_server:call(Counter, {add, 10})),
    gen_server:cast(Counter, 1),
    show(get, gen_server:call(Counter, get)).

show(What, Result) ->
    io:format("~s -> ~p~n", [What, Result]).
