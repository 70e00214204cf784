%% @doc A one_for_one supervisor with a single permanent, registered
%% rotp_bench_server child, for the supervisor_restart benchmark.
-module(rotp_bench_sup).
-behaviour(supervisor).

-export([start_link/2]).
-export([init/1]).

%% Intensity is the number of restarts allowed within one second. OTP keeps
%% the restart times of the last period in a list that it walks on every
%% restart, so a restart costs more the more restarts happened in the last
%% second or two; a period of one second keeps that history short.
start_link(ChildName, Intensity) ->
    supervisor:start_link(?MODULE, {ChildName, Intensity}).

init({ChildName, Intensity}) ->
    Flags = #{strategy => one_for_one, intensity => Intensity, period => 1},
    Child = #{id => worker,
              start => {rotp_bench_server, start_link, [ChildName]},
              restart => permanent,
              shutdown => 5000,
              type => worker},
    {ok, {Flags, [Child]}}.
