# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_netkit_global_optspecs
    string join \n h/help V/version
end

function __fish_netkit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_netkit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_netkit_using_subcommand
    set -l cmd (__fish_netkit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c netkit -n "__fish_netkit_needs_command" -s h -l help -d 'Print help'
complete -c netkit -n "__fish_netkit_needs_command" -s V -l version -d 'Print version'
complete -c netkit -n "__fish_netkit_needs_command" -f -a "serve" -d 'Listen on a port: netcat listen mode or a classic service (echo, discard, chargen, time...)'
complete -c netkit -n "__fish_netkit_needs_command" -f -a "connect" -d 'Connect to HOST PORT and pipe stdin/stdout through the socket'
complete -c netkit -n "__fish_netkit_needs_command" -f -a "kv" -d 'A key-value server (Redis protocol and a line protocol) and its client'
complete -c netkit -n "__fish_netkit_needs_command" -f -a "bench" -d 'Measure throughput, latency, connection rate or UDP loss (in-process server or HOST:PORT)'
complete -c netkit -n "__fish_netkit_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c netkit -n "__fish_netkit_needs_command" -f -a "man" -d 'Print the man page (or write every page into a directory)'
complete -c netkit -n "__fish_netkit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l exec -d 'Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l sh-exec -d 'Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l forward -d 'Relay each client to TARGET: HOST:PORT, or a Unix socket /path or @name (like socat TCP-LISTEN,fork TCP:HOST:PORT)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l bind -d 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l count -d 'Exit after this many connections (UDP: datagrams)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l idle-timeout -d 'Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l allow -d 'Admit only clients in this network (CIDR or address; repeatable)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l deny -d 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l allow-file -d 'Read --allow networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l deny-file -d 'Read --deny networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l hexdump -d 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l max-conns -d 'At most N connections at once; further clients are accepted and closed at once [default: 100 with --exec/--sh-exec (a process each), else no limit]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l max-frame -d '--framed: the largest frame accepted; a bigger length closes the connection [default: 16MiB]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l grace -d 'On Ctrl-C/SIGTERM, how long live connections may take to finish' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l tls-cert -d 'Certificate chain to present (PEM); implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l tls-key -d 'The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file]' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l tls-ca -d 'Require client certificates signed by a CA in FILE (PEM); implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l tls-alpn -d 'ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l keepalive -d 'Drop a client that vanished without closing (no FIN or RST) after about 2 x DURATION: probes start after DURATION of silence, then every DURATION/3; 3 unanswered probes (or unacknowledged data for as long) end it. Only as --keepalive or --keepalive=DURATION' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l forward-tls-ca -d '--forward-tls: trust the CAs in FILE (PEM) for the target' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l forward-tls-pin -d '--forward-tls: trust exactly the target certificate with this SHA-256' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l forward-tls-sni -d '--forward-tls: the name to send (SNI) and check [default: the target\'s host]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l proxy-auth -d '--socks5/--http-proxy: require these credentials from clients' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l connect-timeout -d 'Give up connecting to a target after this long' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l delay -d '--forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l jitter -d '--forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l limit-rate -d '--forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l cut-after -d '--forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l drop -d '--forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l echo -d 'Echo every byte back to its sender (RFC 862)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l upper -d 'Line echo, upper-cased; `quit` answers `bye` and closes'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l discard -d 'Read and count everything (RFC 863); -v prints bytes per connection'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l source -d 'Send an endless chargen pattern until the client closes (RFC 864)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l time -d 'Send the Unix time in seconds and a newline, then close'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l framed -d 'Echo frames: a 4-byte big-endian length, then that many bytes'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l chat -d 'Chat room: each line from a client goes to all the others, prefixed with the sender'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l socks5 -d 'A SOCKS5 proxy (CONNECT; names resolved here), like microsocks'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l http-proxy -d 'An HTTP proxy for CONNECT tunnels only, like ncat -l --proxy-type http'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -s v -l verbose -d 'Log each connection (peer, bytes in/out, duration, how it ended)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -s q -l quiet -d 'Print nothing but errors'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l json -d 'Logs and the summary as one JSON object per line on stderr'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -s k -l keep-open -d 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l tls -d 'Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l nodelay -d 'Set TCP_NODELAY on each connection (modes that forward bytes always do)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l forward-tls -d '--forward: speak TLS to the target (verified against the system\'s CAs, or --forward-tls-ca/-pin/-insecure)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -l forward-tls-insecure -d '--forward-tls: accept any certificate from the target'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -s h -l help -d 'Print help'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -a "tcp" -d 'Serve over TCP (the default)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -a "udp" -d 'Serve over UDP'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -a "unix" -d 'Serve on a Unix socket (a path, or @name for a Linux abstract socket): every TCP mode, or datagrams with --dgram'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and not __fish_seen_subcommand_from tcp udp unix help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l exec -d 'Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l sh-exec -d 'Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l forward -d 'Relay each client to TARGET: HOST:PORT, or a Unix socket /path or @name (like socat TCP-LISTEN,fork TCP:HOST:PORT)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l bind -d 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l count -d 'Exit after this many connections (UDP: datagrams)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l idle-timeout -d 'Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l allow -d 'Admit only clients in this network (CIDR or address; repeatable)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l deny -d 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l allow-file -d 'Read --allow networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l deny-file -d 'Read --deny networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l hexdump -d 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l max-conns -d 'At most N connections at once; further clients are accepted and closed at once [default: 100 with --exec/--sh-exec (a process each), else no limit]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l max-frame -d '--framed: the largest frame accepted; a bigger length closes the connection [default: 16MiB]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l grace -d 'On Ctrl-C/SIGTERM, how long live connections may take to finish' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l tls-cert -d 'Certificate chain to present (PEM); implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l tls-key -d 'The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file]' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l tls-ca -d 'Require client certificates signed by a CA in FILE (PEM); implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l tls-alpn -d 'ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l keepalive -d 'Drop a client that vanished without closing (no FIN or RST) after about 2 x DURATION: probes start after DURATION of silence, then every DURATION/3; 3 unanswered probes (or unacknowledged data for as long) end it. Only as --keepalive or --keepalive=DURATION' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l forward-tls-ca -d '--forward-tls: trust the CAs in FILE (PEM) for the target' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l forward-tls-pin -d '--forward-tls: trust exactly the target certificate with this SHA-256' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l forward-tls-sni -d '--forward-tls: the name to send (SNI) and check [default: the target\'s host]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l proxy-auth -d '--socks5/--http-proxy: require these credentials from clients' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l connect-timeout -d 'Give up connecting to a target after this long' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l delay -d '--forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l jitter -d '--forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l limit-rate -d '--forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l cut-after -d '--forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l drop -d '--forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l echo -d 'Echo every byte back to its sender (RFC 862)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l upper -d 'Line echo, upper-cased; `quit` answers `bye` and closes'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l discard -d 'Read and count everything (RFC 863); -v prints bytes per connection'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l source -d 'Send an endless chargen pattern until the client closes (RFC 864)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l time -d 'Send the Unix time in seconds and a newline, then close'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l framed -d 'Echo frames: a 4-byte big-endian length, then that many bytes'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l chat -d 'Chat room: each line from a client goes to all the others, prefixed with the sender'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l socks5 -d 'A SOCKS5 proxy (CONNECT; names resolved here), like microsocks'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l http-proxy -d 'An HTTP proxy for CONNECT tunnels only, like ncat -l --proxy-type http'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -s v -l verbose -d 'Log each connection (peer, bytes in/out, duration, how it ended)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -s q -l quiet -d 'Print nothing but errors'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l json -d 'Logs and the summary as one JSON object per line on stderr'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -s k -l keep-open -d 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l tls -d 'Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l nodelay -d 'Set TCP_NODELAY on each connection (modes that forward bytes always do)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l forward-tls -d '--forward: speak TLS to the target (verified against the system\'s CAs, or --forward-tls-ca/-pin/-insecure)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -l forward-tls-insecure -d '--forward-tls: accept any certificate from the target'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from tcp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l forward -d 'Relay datagrams to HOST:PORT, one upstream socket per client (ended after --idle-timeout, default 60s)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l bind -d 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l count -d 'Exit after this many connections (UDP: datagrams)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l idle-timeout -d 'Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l allow -d 'Admit only clients in this network (CIDR or address; repeatable)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l deny -d 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l allow-file -d 'Read --allow networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l deny-file -d 'Read --deny networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l hexdump -d 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l delay -d '--forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l jitter -d '--forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l limit-rate -d '--forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l cut-after -d '--forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l drop -d '--forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l echo -d 'Send every datagram back to its sender'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l discard -d 'Count datagrams and bytes'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l time -d 'Answer a `TIME` datagram with the Unix time; anything else with an error datagram'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -s v -l verbose -d 'Log each connection (peer, bytes in/out, duration, how it ended)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -s q -l quiet -d 'Print nothing but errors'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -l json -d 'Logs and the summary as one JSON object per line on stderr'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -s k -l keep-open -d 'Accepted for nc -luk / ncat -luk: every UDP mode already serves all peers (hidden: it changes nothing here)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from udp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l exec -d 'Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l sh-exec -d 'Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l forward -d 'Relay each client to TARGET: HOST:PORT, or a Unix socket /path or @name (like socat TCP-LISTEN,fork TCP:HOST:PORT)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l unix-mode -d 'Permissions of the socket file, in octal: who may connect (e.g. 660, 600)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l count -d 'Exit after this many connections (UDP: datagrams)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l idle-timeout -d 'Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l allow -d 'Admit only clients in this network (CIDR or address; repeatable)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l deny -d 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l allow-file -d 'Read --allow networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l deny-file -d 'Read --deny networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l hexdump -d 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l max-conns -d 'At most N connections at once; further clients are accepted and closed at once [default: 100 with --exec/--sh-exec (a process each), else no limit]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l max-frame -d '--framed: the largest frame accepted; a bigger length closes the connection [default: 16MiB]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l grace -d 'On Ctrl-C/SIGTERM, how long live connections may take to finish' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l tls-cert -d 'Certificate chain to present (PEM); implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l tls-key -d 'The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file]' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l tls-ca -d 'Require client certificates signed by a CA in FILE (PEM); implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l tls-alpn -d 'ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l forward-tls-ca -d '--forward-tls: trust the CAs in FILE (PEM) for the target' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l forward-tls-pin -d '--forward-tls: trust exactly the target certificate with this SHA-256' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l forward-tls-sni -d '--forward-tls: the name to send (SNI) and check [default: the target\'s host]' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l proxy-auth -d '--socks5/--http-proxy: require these credentials from clients' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l connect-timeout -d 'Give up connecting to a target after this long' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l delay -d '--forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l jitter -d '--forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l limit-rate -d '--forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l cut-after -d '--forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l drop -d '--forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5)' -r
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l echo -d 'Echo every byte back to its sender (RFC 862)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l upper -d 'Line echo, upper-cased; `quit` answers `bye` and closes'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l discard -d 'Read and count everything (RFC 863); -v prints bytes per connection'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l source -d 'Send an endless chargen pattern until the client closes (RFC 864)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l time -d 'Send the Unix time in seconds and a newline, then close'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l framed -d 'Echo frames: a 4-byte big-endian length, then that many bytes'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l chat -d 'Chat room: each line from a client goes to all the others, prefixed with the sender'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l socks5 -d 'A SOCKS5 proxy (CONNECT; names resolved here), like microsocks'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l http-proxy -d 'An HTTP proxy for CONNECT tunnels only, like ncat -l --proxy-type http'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l dgram -d 'Datagrams (SOCK_DGRAM) instead of a stream; modes: listen, --echo, --discard, --time'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -s v -l verbose -d 'Log each connection (peer, bytes in/out, duration, how it ended)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -s q -l quiet -d 'Print nothing but errors'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l json -d 'Logs and the summary as one JSON object per line on stderr'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -s k -l keep-open -d 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l tls -d 'Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l forward-tls -d '--forward: speak TLS to the target (verified against the system\'s CAs, or --forward-tls-ca/-pin/-insecure)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -l forward-tls-insecure -d '--forward-tls: accept any certificate from the target'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from unix" -s h -l help -d 'Print help'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "tcp" -d 'Serve over TCP (the default)'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "udp" -d 'Serve over UDP'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "unix" -d 'Serve on a Unix socket (a path, or @name for a Linux abstract socket): every TCP mode, or datagrams with --dgram'
complete -c netkit -n "__fish_netkit_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s w -l timeout -d 'Connect timeout for each address [default: 10s; with -z, per port: 1s]' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l idle-timeout -d 'Close when no data moves either way for this long (exit code 4)' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s q -d 'Like nc -q: after stdin EOF the whole reply is still read; once the peer has closed too, wait SECS, then exit' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l reply-timeout -d 'UDP: how long to wait for replies after stdin EOF [default: 1s]' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s s -l source -d 'Local address to connect from' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s p -l source-port -d 'Local port to connect from' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l concurrency -d '-z: how many ports to probe at once' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l hexdump -d 'Record every chunk both ways as a hex dump to FILE (`-`: stderr; at the prompt, the screen)' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l tls-ca -d 'Trust the CAs in FILE (PEM) instead of the system\'s; implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l tls-pin -d 'Trust exactly the certificate with this SHA-256 (as on netkit\'s listening line, or `openssl x509 -fingerprint -sha256`); implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l tls-sni -d 'Server name to send (SNI) and to check the certificate against [default: the host]; implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l tls-alpn -d 'ALPN protocols to offer (e.g. h2,http/1.1); implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l tls-cert -d 'Client certificate chain (PEM), for servers that ask for one; implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l tls-key -d 'The private key of --tls-cert (PEM)' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l proxy -d 'Go through a proxy: socks5://[USER:PASS@]HOST:PORT (the proxy resolves names) or http://[USER:PASS@]HOST:PORT (CONNECT)' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l proxy-auth -d 'Credentials for --proxy, when not in its URL' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s e -l exec -d 'Run CMD with the connection as its stdin and stdout (split at spaces, no shell), like ncat -e' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s c -l sh-exec -d 'Run `/bin/sh -c CMD` with the connection as its stdin and stdout, like ncat -c' -r
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s o -l output -d 'Write the session\'s bytes, both ways as they are, to FILE (like ncat -o); also at the prompt' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s u -l udp -d 'Use UDP: stdin chunks become datagrams, replies go to stdout'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l no-shutdown -d 'Do not shut down the write side at stdin EOF'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l expect-reply -d 'UDP: exit 5 when no reply came within --reply-timeout (without it, exit 0 like nc)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s 4 -d 'IPv4 only'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s 6 -d 'IPv6 only'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l nodelay -d 'Set TCP_NODELAY (pipe mode always does: a small write never waits for an ACK)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s v -l verbose -d 'Report the connection and how it ended on stderr (-z: every port, its state and time)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s i -l interactive -d 'A prompt even when stdin is not a terminal (one line, one send)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s C -l crlf -d 'Send every \\n from stdin as \\r\\n, like nc -C (a \\n already after \\r is left alone; the prompt ends lines with \\r\\n)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s z -l probe -d 'Probe PORT (a list: 20-30,80,443) and print the open ports; exit 0 if any is open'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l framed -d 'Send each stdin line as one frame (4-byte big-endian length + bytes); print each frame received as a line'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l progress -d 'A live byte counter and rate on stderr while piping (hidden when stderr is not a terminal)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l json -d 'One JSON summary object on stderr at exit (-z: one object per port on stdout)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s U -l unix -d 'Connect to a Unix socket: HOST is its path (@name: a Linux abstract name); with -u, a datagram socket'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l tls -d 'Speak TLS, verifying the server against the system\'s CAs (or --tls-ca, --tls-pin)'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -l tls-insecure -d 'Accept any certificate (no verification at all); implies --tls'
complete -c netkit -n "__fish_netkit_using_subcommand connect" -s h -l help -d 'Print help'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -l addr -d 'Server to talk to' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -s s -l socket -d 'Talk to a server on this Unix socket instead (redis-server\'s unixsocket)' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -s n -d 'Database number to select (SELECT); the prompt shows it, as in 127.0.0.1:6380[2]>' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -s 3 -l resp3 -d 'Speak RESP3 (HELLO 3 on connect), as redis-cli -3'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -l raw -d 'Print replies raw (bare values), even on a terminal'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -l no-raw -d 'Print replies formatted like redis-cli, even when piped'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -s x -d 'Read the last argument from stdin'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -s h -l help -d 'Print help'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -a "serve" -d 'Serve a Redis-compatible key-value store (RESP2/RESP3, inline commands) and a line protocol (nc)'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and not __fish_seen_subcommand_from serve check-log" -a "check-log" -d 'Check a --data log for damage; --fix repairs it, keeping a backup (like redis-check-aof)'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l bind -d 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l data -d 'Append every write to this log before acknowledging it; replay it at start' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l fsync -d 'When the log is fsynced (with --data)' -r -f -a "always\t'Before every acknowledgement (batched per round of requests)'
everysec\t'Once a second'
no\t'Never explicitly; the OS decides'"
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l max-conns -d 'At most N clients at once; the next one gets an error and is closed' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l max-bulk -d 'Largest bulk string (a key or value) a client may send' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l max-line -d 'Longest line (line protocol) a client may send' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l max-args -d 'Most arguments in one command' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l threads -d 'Event-loop threads (0: one per core but one, left to the clients; at least one)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l busy-poll -d 'After work, poll this long without sleeping (faster replies, more CPU; 0: off; only when a core is left over beside the loops)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l databases -d 'Number of databases (SELECT 0..N-1)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l requirepass -d 'Clients must AUTH with this password first (CONFIG SET requirepass changes it)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l timeout -d 'Close a client idle this many seconds (0: never)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l tcp-keepalive -d 'TCP keepalive probes every SECONDS, to release dead peers (0: off)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l output-limit -d 'Disconnect a client whose unsent replies exceed SIZE (0: no limit), with a log line' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l pubsub-output-limit -d 'The same for a client subscribed to pub/sub channels (Redis\'s pubsub class)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l busy-reply-threshold -d 'A script running longer makes other clients\' commands answer -BUSY and SCRIPT KILL may stop it (0: never; CONFIG SET busy-reply-threshold|lua-time-limit MS)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l notify-keyspace-events -d 'Publish keyspace events of these classes, Redis\'s letters: K (keyspace channels) and/or E (keyevent channels) with g $ l s h z x e t m d n or A (all but m and n), e.g. KEA (CONFIG SET notify-keyspace-events changes it)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l maxmemory -d 'Memory limit, as Redis reads it (100mb, 1gb, bytes; 0: none): past it keys are evicted by --maxmemory-policy, or (noeviction) commands that grow memory get -OOM. Counted as Redis does: the heap\'s bytes' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l maxmemory-policy -d 'What to evict past --maxmemory: noeviction, allkeys-lru, allkeys-random, volatile-lru, volatile-random, volatile-ttl (allkeys-lfu and volatile-lfu evict as LRU: netkit counts no accesses)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l allow -d 'Admit only clients in this network (CIDR or address; repeatable)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l deny -d 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l allow-file -d 'Read --allow networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l deny-file -d 'Read --deny networks from FILE, one per line, `#` comments' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l tls-cert -d 'Certificate chain to present (PEM); implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l tls-key -d 'The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file]' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l tls-ca -d 'Require client certificates signed by a CA in FILE (PEM); implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l tls-alpn -d 'ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -s v -l verbose -d 'Log each connection (peer, bytes in/out, duration, how it ended)'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -s q -l quiet -d 'Print nothing but errors'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l json -d 'Logs and the summary as one JSON object per line on stderr'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -l tls -d 'Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`)'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from check-log" -l fix -d 'Repair: save FILE.bak, then rewrite FILE with only its good records'
complete -c netkit -n "__fish_netkit_using_subcommand kv; and __fish_seen_subcommand_from check-log" -s h -l help -d 'Print help'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s t -l duration -d 'Measure for this long (after --warmup) [default: 10s]' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s n -l bytes -d 'throughput: move this many bytes in total instead of running for a duration' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s l -l size -d 'Block, message or datagram size [default: throughput 1MiB, latency 64, udp 1400]' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s P -l parallel -d 'throughput: parallel streams, each on its own thread' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s c -l connections -d 'latency, connect: concurrent connections (latency: beyond one per core, driven by readiness loops)' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l warmup -d 'Run this long before measuring; not counted [default: latency 1s, others 0]' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l rate -d 'latency: requests per second in all (open loop); udp: datagrams per second. Flat out when absent' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s i -l interval -d 'Print a row of figures every DURATION (e.g. 1s)' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s w -l timeout -d 'Connect timeout, and how long to wait for a reply before giving up' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l max-loss -d 'udp --find-rate: the loss bound, in percent' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s U -l unix -d 'Over a Unix stream socket: the server at PATH (@name: abstract), or an in-process one' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l tls-ca -d 'Trust the CAs in FILE (PEM) instead of the system\'s; implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l tls-pin -d 'Trust exactly the certificate with this SHA-256 (as on netkit\'s listening line, or `openssl x509 -fingerprint -sha256`); implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l tls-sni -d 'Server name to send (SNI) and to check the certificate against [default: the host]; implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l tls-alpn -d 'ALPN protocols to offer (e.g. h2,http/1.1); implies --tls' -r
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l tls-cert -d 'Client certificate chain (PEM), for servers that ask for one; implies --tls' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l tls-key -d 'The private key of --tls-cert (PEM)' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l reverse -d 'throughput: read from a source server instead of writing to a discard server'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l bidir -d 'throughput: write and read at once through an echo server'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s q -l quiet -d 'No progress bar (it is also hidden when stderr is not a terminal)'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l find-rate -d 'udp: find the highest rate with less than --max-loss lost (a trial of -t per step)'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l no-gso -d 'udp: one buffer per datagram (no GSO/GRO runs; still batched with sendmmsg/recvmmsg)'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l json -d 'Print one JSON summary object on stdout instead of the table'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l json-stream -d 'Print one JSON object per interval (default 1s) and a summary, one per line'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l tls -d 'Speak TLS, verifying the server against the system\'s CAs (or --tls-ca, --tls-pin)'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -l tls-insecure -d 'Accept any certificate (no verification at all); implies --tls'
complete -c netkit -n "__fish_netkit_using_subcommand bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netkit -n "__fish_netkit_using_subcommand completions" -s h -l help -d 'Print help'
complete -c netkit -n "__fish_netkit_using_subcommand man" -l out-dir -d 'Write netkit.1 and one page per subcommand into this directory' -r -F
complete -c netkit -n "__fish_netkit_using_subcommand man" -s h -l help -d 'Print help'
complete -c netkit -n "__fish_netkit_using_subcommand help; and not __fish_seen_subcommand_from serve connect kv bench completions man help" -f -a "serve" -d 'Listen on a port: netcat listen mode or a classic service (echo, discard, chargen, time...)'
complete -c netkit -n "__fish_netkit_using_subcommand help; and not __fish_seen_subcommand_from serve connect kv bench completions man help" -f -a "connect" -d 'Connect to HOST PORT and pipe stdin/stdout through the socket'
complete -c netkit -n "__fish_netkit_using_subcommand help; and not __fish_seen_subcommand_from serve connect kv bench completions man help" -f -a "kv" -d 'A key-value server (Redis protocol and a line protocol) and its client'
complete -c netkit -n "__fish_netkit_using_subcommand help; and not __fish_seen_subcommand_from serve connect kv bench completions man help" -f -a "bench" -d 'Measure throughput, latency, connection rate or UDP loss (in-process server or HOST:PORT)'
complete -c netkit -n "__fish_netkit_using_subcommand help; and not __fish_seen_subcommand_from serve connect kv bench completions man help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c netkit -n "__fish_netkit_using_subcommand help; and not __fish_seen_subcommand_from serve connect kv bench completions man help" -f -a "man" -d 'Print the man page (or write every page into a directory)'
complete -c netkit -n "__fish_netkit_using_subcommand help; and not __fish_seen_subcommand_from serve connect kv bench completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netkit -n "__fish_netkit_using_subcommand help; and __fish_seen_subcommand_from serve" -f -a "tcp" -d 'Serve over TCP (the default)'
complete -c netkit -n "__fish_netkit_using_subcommand help; and __fish_seen_subcommand_from serve" -f -a "udp" -d 'Serve over UDP'
complete -c netkit -n "__fish_netkit_using_subcommand help; and __fish_seen_subcommand_from serve" -f -a "unix" -d 'Serve on a Unix socket (a path, or @name for a Linux abstract socket): every TCP mode, or datagrams with --dgram'
complete -c netkit -n "__fish_netkit_using_subcommand help; and __fish_seen_subcommand_from kv" -f -a "serve" -d 'Serve a Redis-compatible key-value store (RESP2/RESP3, inline commands) and a line protocol (nc)'
complete -c netkit -n "__fish_netkit_using_subcommand help; and __fish_seen_subcommand_from kv" -f -a "check-log" -d 'Check a --data log for damage; --fix repairs it, keeping a backup (like redis-check-aof)'
