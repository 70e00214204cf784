%% The BEAM side of rotp-dist's benchmark: a node that takes one command
%% per line on stdin and answers "OK <term>" on stdout.
%%
%%   {serve, Name}         start a counter gen_server registered as Name
%%   {calls, Server, N}    N sequential gen_server:call(Server, increment)
%%   {casts, Server, N}    N gen_server:cast(Server, {add, 1}), then a call
%%                         get (all casts are handled before it answers)
%%   {connect, Node}       connect to Node
%%
%% Timed answers are {Micros, Result}.
-module(dist_bench).
-behaviour(gen_server).
-export([main/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

main() ->
    io:format("READY~n"),
    loop().

loop() ->
    case io:get_line('') of
        eof -> halt(0);
        {error, _} -> halt(0);
        Line ->
            {ok, Tokens, _} = erl_scan:string(Line),
            {ok, Command} = erl_parse:parse_term(Tokens),
            Result = run(Command),
            io:format("OK ~w~n", [Result]),
            loop()
    end.

run({serve, Name}) ->
    {ok, _} = gen_server:start({local, Name}, ?MODULE, 0, []),
    ok;
run({connect, Node}) ->
    net_kernel:connect_node(Node);
run({calls, Server, N}) ->
    timer:tc(fun() -> calls(Server, N, 0) end);
run({casts, Server, N}) ->
    timer:tc(fun() -> casts(Server, N) end).

calls(_Server, 0, Last) -> Last;
calls(Server, N, _) -> calls(Server, N - 1, gen_server:call(Server, increment, 60000)).

casts(Server, 0) -> gen_server:call(Server, get, 60000);
casts(Server, N) ->
    gen_server:cast(Server, {add, 1}),
    casts(Server, N - 1).

init(N) -> {ok, N}.

handle_call(increment, _From, N) -> {reply, N + 1, N + 1};
handle_call(get, _From, N) -> {reply, N, N}.

handle_cast({add, K}, N) -> {noreply, N + K}.

handle_info(_, N) -> {noreply, N}.
