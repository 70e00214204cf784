# Calls the rotp counter of examples/cluster.rs from Elixir.
#
#   cargo run --example cluster --features dist -- --wait
#   elixir --name client@127.0.0.1 --cookie rotp-example examples/cluster_client.exs

node = :"rotp@127.0.0.1"
true = Node.connect(node)
counter = {:counter, node}
IO.puts("increment -> #{GenServer.call(counter, :increment)}")
IO.puts("{:add, 10} -> #{GenServer.call(counter, {:add, 10})}")
GenServer.cast(counter, 1)
IO.puts("get -> #{GenServer.call(counter, :get)}")
