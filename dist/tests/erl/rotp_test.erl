%% The Erlang side of rotp-dist's tests: a shell that reads one Erlang
%% expression per line from stdin, evaluates it (bindings persist), and
%% answers "OK <term>" or "ERR <class> <reason>" on one line.
-module(rotp_test).
-export([main/0, echo/0, collector/0, collect/2, collect/3, wait_for/2, counter_loop/1]).

main() ->
    io:setopts([{encoding, unicode}]),
    io:format("READY~n"),
    loop(erl_eval:new_bindings()).

loop(Bindings) ->
    case io:get_line('') of
        eof -> halt(0);
        {error, _} -> halt(0);
        Line ->
            Next = try
                {ok, Tokens, _} = erl_scan:string(Line),
                {ok, Exprs} = erl_parse:parse_exprs(Tokens),
                {value, Value, NewBindings} = erl_eval:exprs(Exprs, Bindings),
                io:format("OK ~ts~n", [one_line(Value)]),
                NewBindings
            catch
                Class:Reason ->
                    io:format("ERR ~p ~ts~n", [Class, one_line(Reason)]),
                    Bindings
            end,
            loop(Next)
    end.

one_line(Term) ->
    io_lib:print(Term, 1, 1000000, -1).

%% Sends back to the sender every {From, Msg} it gets: From ! Msg.
echo() ->
    receive
        {From, Msg} when is_pid(From) -> From ! Msg, echo();
        {From, Msg} when is_tuple(From) -> From ! Msg, echo();
        stop -> ok
    end.

%% Keeps everything it receives, for collect/2.
collector() ->
    process_flag(trap_exit, true),
    collector([]).

collector(Got) ->
    receive
        {'$collect', From, N, Timeout} ->
            collector_reply(From, Got, N, Timeout);
        Msg -> collector(Got ++ [Msg])
    end.

collector_reply(From, Got, N, _Timeout) when length(Got) >= N ->
    {Mine, Rest} = lists:split(N, Got),
    From ! {'$collected', Mine},
    collector(Rest);
collector_reply(From, Got, N, Timeout) ->
    receive
        Msg -> collector_reply(From, Got ++ [Msg], N, Timeout)
    after Timeout ->
        From ! {'$collected', Got},
        collector([])
    end.

%% The first N messages the collector holds (waiting up to 10 s).
collect(Collector, N) ->
    collect(Collector, N, 10000).

%% The first N messages the collector holds, waiting up to Ms for them.
collect(Collector, N, Ms) ->
    Collector ! {'$collect', self(), N, Ms},
    receive {'$collected', Got} -> Got after Ms + 5000 -> timeout end.

%% Waits until Fun() returns true (checking every 10 ms), up to Ms.
wait_for(Fun, Ms) when Ms =< 0 -> Fun();
wait_for(Fun, Ms) ->
    case Fun() of
        true -> true;
        _ -> timer:sleep(10), wait_for(Fun, Ms - 10)
    end.

%% A bare counter process for raw sends: {add, N}, {get, From}.
counter_loop(N) ->
    receive
        {add, K} -> counter_loop(N + K);
        {get, From} -> From ! {count, N}, counter_loop(N);
        stop -> ok
    end.
