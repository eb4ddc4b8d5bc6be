// The `tokenhub` executable: the CLI only; everything else lives in HostRuntime.
await TokenHubCommand.main()
