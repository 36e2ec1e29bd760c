
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'netkit' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'netkit'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'netkit' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Listen on a port: netcat listen mode or a classic service (echo, discard, chargen, time...)')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to HOST PORT and pipe stdin/stdout through the socket')
            [CompletionResult]::new('kv', 'kv', [CompletionResultType]::ParameterValue, 'A key-value server (Redis protocol and a line protocol) and its client')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Measure throughput, latency, connection rate or UDP loss (in-process server or HOST:PORT)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (or write every page into a directory)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'netkit;serve' {
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell)')
            [CompletionResult]::new('--sh-exec', '--sh-exec', [CompletionResultType]::ParameterName, 'Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout')
            [CompletionResult]::new('--forward', '--forward', [CompletionResultType]::ParameterName, 'Relay each client to TARGET: HOST:PORT, or a Unix socket /path or @name (like socat TCP-LISTEN,fork TCP:HOST:PORT)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after this many connections (UDP: datagrams)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Admit only clients in this network (CIDR or address; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)')
            [CompletionResult]::new('--allow-file', '--allow-file', [CompletionResultType]::ParameterName, 'Read --allow networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--deny-file', '--deny-file', [CompletionResultType]::ParameterName, 'Read --deny networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--hexdump', '--hexdump', [CompletionResultType]::ParameterName, 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'At most N connections at once; further clients are accepted and closed at once [default: 100 with --exec/--sh-exec (a process each), else no limit]')
            [CompletionResult]::new('--max-frame', '--max-frame', [CompletionResultType]::ParameterName, '--framed: the largest frame accepted; a bigger length closes the connection [default: 16MiB]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'On Ctrl-C/SIGTERM, how long live connections may take to finish')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Certificate chain to present (PEM); implies --tls')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file]')
            [CompletionResult]::new('--tls-ca', '--tls-ca', [CompletionResultType]::ParameterName, 'Require client certificates signed by a CA in FILE (PEM); implies --tls')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Drop a client that vanished without closing (no FIN or RST) after about 2 x DURATION: probes start after DURATION of silence, then every DURATION/3; 3 unanswered probes (or unacknowledged data for as long) end it. Only as --keepalive or --keepalive=DURATION')
            [CompletionResult]::new('--forward-tls-ca', '--forward-tls-ca', [CompletionResultType]::ParameterName, '--forward-tls: trust the CAs in FILE (PEM) for the target')
            [CompletionResult]::new('--forward-tls-pin', '--forward-tls-pin', [CompletionResultType]::ParameterName, '--forward-tls: trust exactly the target certificate with this SHA-256')
            [CompletionResult]::new('--forward-tls-sni', '--forward-tls-sni', [CompletionResultType]::ParameterName, '--forward-tls: the name to send (SNI) and check [default: the target''s host]')
            [CompletionResult]::new('--proxy-auth', '--proxy-auth', [CompletionResultType]::ParameterName, '--socks5/--http-proxy: require these credentials from clients')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting to a target after this long')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, '--forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms)')
            [CompletionResult]::new('--jitter', '--jitter', [CompletionResultType]::ParameterName, '--forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder)')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, '--forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped)')
            [CompletionResult]::new('--cut-after', '--cut-after', [CompletionResultType]::ParameterName, '--forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting')
            [CompletionResult]::new('--drop', '--drop', [CompletionResultType]::ParameterName, '--forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Echo every byte back to its sender (RFC 862)')
            [CompletionResult]::new('--upper', '--upper', [CompletionResultType]::ParameterName, 'Line echo, upper-cased; `quit` answers `bye` and closes')
            [CompletionResult]::new('--discard', '--discard', [CompletionResultType]::ParameterName, 'Read and count everything (RFC 863); -v prints bytes per connection')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Send an endless chargen pattern until the client closes (RFC 864)')
            [CompletionResult]::new('--time', '--time', [CompletionResultType]::ParameterName, 'Send the Unix time in seconds and a newline, then close')
            [CompletionResult]::new('--framed', '--framed', [CompletionResultType]::ParameterName, 'Echo frames: a 4-byte big-endian length, then that many bytes')
            [CompletionResult]::new('--chat', '--chat', [CompletionResultType]::ParameterName, 'Chat room: each line from a client goes to all the others, prefixed with the sender')
            [CompletionResult]::new('--socks5', '--socks5', [CompletionResultType]::ParameterName, 'A SOCKS5 proxy (CONNECT; names resolved here), like microsocks')
            [CompletionResult]::new('--http-proxy', '--http-proxy', [CompletionResultType]::ParameterName, 'An HTTP proxy for CONNECT tunnels only, like ncat -l --proxy-type http')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Logs and the summary as one JSON object per line on stderr')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`)')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Set TCP_NODELAY on each connection (modes that forward bytes always do)')
            [CompletionResult]::new('--forward-tls', '--forward-tls', [CompletionResultType]::ParameterName, '--forward: speak TLS to the target (verified against the system''s CAs, or --forward-tls-ca/-pin/-insecure)')
            [CompletionResult]::new('--forward-tls-insecure', '--forward-tls-insecure', [CompletionResultType]::ParameterName, '--forward-tls: accept any certificate from the target')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('tcp', 'tcp', [CompletionResultType]::ParameterValue, 'Serve over TCP (the default)')
            [CompletionResult]::new('udp', 'udp', [CompletionResultType]::ParameterValue, 'Serve over UDP')
            [CompletionResult]::new('unix', 'unix', [CompletionResultType]::ParameterValue, 'Serve on a Unix socket (a path, or @name for a Linux abstract socket): every TCP mode, or datagrams with --dgram')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'netkit;serve;tcp' {
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell)')
            [CompletionResult]::new('--sh-exec', '--sh-exec', [CompletionResultType]::ParameterName, 'Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout')
            [CompletionResult]::new('--forward', '--forward', [CompletionResultType]::ParameterName, 'Relay each client to TARGET: HOST:PORT, or a Unix socket /path or @name (like socat TCP-LISTEN,fork TCP:HOST:PORT)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after this many connections (UDP: datagrams)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Admit only clients in this network (CIDR or address; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)')
            [CompletionResult]::new('--allow-file', '--allow-file', [CompletionResultType]::ParameterName, 'Read --allow networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--deny-file', '--deny-file', [CompletionResultType]::ParameterName, 'Read --deny networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--hexdump', '--hexdump', [CompletionResultType]::ParameterName, 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'At most N connections at once; further clients are accepted and closed at once [default: 100 with --exec/--sh-exec (a process each), else no limit]')
            [CompletionResult]::new('--max-frame', '--max-frame', [CompletionResultType]::ParameterName, '--framed: the largest frame accepted; a bigger length closes the connection [default: 16MiB]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'On Ctrl-C/SIGTERM, how long live connections may take to finish')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Certificate chain to present (PEM); implies --tls')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file]')
            [CompletionResult]::new('--tls-ca', '--tls-ca', [CompletionResultType]::ParameterName, 'Require client certificates signed by a CA in FILE (PEM); implies --tls')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Drop a client that vanished without closing (no FIN or RST) after about 2 x DURATION: probes start after DURATION of silence, then every DURATION/3; 3 unanswered probes (or unacknowledged data for as long) end it. Only as --keepalive or --keepalive=DURATION')
            [CompletionResult]::new('--forward-tls-ca', '--forward-tls-ca', [CompletionResultType]::ParameterName, '--forward-tls: trust the CAs in FILE (PEM) for the target')
            [CompletionResult]::new('--forward-tls-pin', '--forward-tls-pin', [CompletionResultType]::ParameterName, '--forward-tls: trust exactly the target certificate with this SHA-256')
            [CompletionResult]::new('--forward-tls-sni', '--forward-tls-sni', [CompletionResultType]::ParameterName, '--forward-tls: the name to send (SNI) and check [default: the target''s host]')
            [CompletionResult]::new('--proxy-auth', '--proxy-auth', [CompletionResultType]::ParameterName, '--socks5/--http-proxy: require these credentials from clients')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting to a target after this long')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, '--forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms)')
            [CompletionResult]::new('--jitter', '--jitter', [CompletionResultType]::ParameterName, '--forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder)')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, '--forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped)')
            [CompletionResult]::new('--cut-after', '--cut-after', [CompletionResultType]::ParameterName, '--forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting')
            [CompletionResult]::new('--drop', '--drop', [CompletionResultType]::ParameterName, '--forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Echo every byte back to its sender (RFC 862)')
            [CompletionResult]::new('--upper', '--upper', [CompletionResultType]::ParameterName, 'Line echo, upper-cased; `quit` answers `bye` and closes')
            [CompletionResult]::new('--discard', '--discard', [CompletionResultType]::ParameterName, 'Read and count everything (RFC 863); -v prints bytes per connection')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Send an endless chargen pattern until the client closes (RFC 864)')
            [CompletionResult]::new('--time', '--time', [CompletionResultType]::ParameterName, 'Send the Unix time in seconds and a newline, then close')
            [CompletionResult]::new('--framed', '--framed', [CompletionResultType]::ParameterName, 'Echo frames: a 4-byte big-endian length, then that many bytes')
            [CompletionResult]::new('--chat', '--chat', [CompletionResultType]::ParameterName, 'Chat room: each line from a client goes to all the others, prefixed with the sender')
            [CompletionResult]::new('--socks5', '--socks5', [CompletionResultType]::ParameterName, 'A SOCKS5 proxy (CONNECT; names resolved here), like microsocks')
            [CompletionResult]::new('--http-proxy', '--http-proxy', [CompletionResultType]::ParameterName, 'An HTTP proxy for CONNECT tunnels only, like ncat -l --proxy-type http')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Logs and the summary as one JSON object per line on stderr')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`)')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Set TCP_NODELAY on each connection (modes that forward bytes always do)')
            [CompletionResult]::new('--forward-tls', '--forward-tls', [CompletionResultType]::ParameterName, '--forward: speak TLS to the target (verified against the system''s CAs, or --forward-tls-ca/-pin/-insecure)')
            [CompletionResult]::new('--forward-tls-insecure', '--forward-tls-insecure', [CompletionResultType]::ParameterName, '--forward-tls: accept any certificate from the target')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netkit;serve;udp' {
            [CompletionResult]::new('--forward', '--forward', [CompletionResultType]::ParameterName, 'Relay datagrams to HOST:PORT, one upstream socket per client (ended after --idle-timeout, default 60s)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after this many connections (UDP: datagrams)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Admit only clients in this network (CIDR or address; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)')
            [CompletionResult]::new('--allow-file', '--allow-file', [CompletionResultType]::ParameterName, 'Read --allow networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--deny-file', '--deny-file', [CompletionResultType]::ParameterName, 'Read --deny networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--hexdump', '--hexdump', [CompletionResultType]::ParameterName, 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, '--forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms)')
            [CompletionResult]::new('--jitter', '--jitter', [CompletionResultType]::ParameterName, '--forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder)')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, '--forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped)')
            [CompletionResult]::new('--cut-after', '--cut-after', [CompletionResultType]::ParameterName, '--forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting')
            [CompletionResult]::new('--drop', '--drop', [CompletionResultType]::ParameterName, '--forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Send every datagram back to its sender')
            [CompletionResult]::new('--discard', '--discard', [CompletionResultType]::ParameterName, 'Count datagrams and bytes')
            [CompletionResult]::new('--time', '--time', [CompletionResultType]::ParameterName, 'Answer a `TIME` datagram with the Unix time; anything else with an error datagram')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Logs and the summary as one JSON object per line on stderr')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Accepted for nc -luk / ncat -luk: every UDP mode already serves all peers (hidden: it changes nothing here)')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Accepted for nc -luk / ncat -luk: every UDP mode already serves all peers (hidden: it changes nothing here)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netkit;serve;unix' {
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell)')
            [CompletionResult]::new('--sh-exec', '--sh-exec', [CompletionResultType]::ParameterName, 'Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout')
            [CompletionResult]::new('--forward', '--forward', [CompletionResultType]::ParameterName, 'Relay each client to TARGET: HOST:PORT, or a Unix socket /path or @name (like socat TCP-LISTEN,fork TCP:HOST:PORT)')
            [CompletionResult]::new('--unix-mode', '--unix-mode', [CompletionResultType]::ParameterName, 'Permissions of the socket file, in octal: who may connect (e.g. 660, 600)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after this many connections (UDP: datagrams)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection with no traffic for this long (e.g. 30s; datagrams: a --forward session)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Admit only clients in this network (CIDR or address; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)')
            [CompletionResult]::new('--allow-file', '--allow-file', [CompletionResultType]::ParameterName, 'Read --allow networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--deny-file', '--deny-file', [CompletionResultType]::ParameterName, 'Read --deny networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--hexdump', '--hexdump', [CompletionResultType]::ParameterName, 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'At most N connections at once; further clients are accepted and closed at once [default: 100 with --exec/--sh-exec (a process each), else no limit]')
            [CompletionResult]::new('--max-frame', '--max-frame', [CompletionResultType]::ParameterName, '--framed: the largest frame accepted; a bigger length closes the connection [default: 16MiB]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'On Ctrl-C/SIGTERM, how long live connections may take to finish')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Certificate chain to present (PEM); implies --tls')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file]')
            [CompletionResult]::new('--tls-ca', '--tls-ca', [CompletionResultType]::ParameterName, 'Require client certificates signed by a CA in FILE (PEM); implies --tls')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls')
            [CompletionResult]::new('--forward-tls-ca', '--forward-tls-ca', [CompletionResultType]::ParameterName, '--forward-tls: trust the CAs in FILE (PEM) for the target')
            [CompletionResult]::new('--forward-tls-pin', '--forward-tls-pin', [CompletionResultType]::ParameterName, '--forward-tls: trust exactly the target certificate with this SHA-256')
            [CompletionResult]::new('--forward-tls-sni', '--forward-tls-sni', [CompletionResultType]::ParameterName, '--forward-tls: the name to send (SNI) and check [default: the target''s host]')
            [CompletionResult]::new('--proxy-auth', '--proxy-auth', [CompletionResultType]::ParameterName, '--socks5/--http-proxy: require these credentials from clients')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting to a target after this long')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, '--forward: deliver each chunk (datagram) this much later, each direction (e.g. 80ms)')
            [CompletionResult]::new('--jitter', '--jitter', [CompletionResultType]::ParameterName, '--forward: add up to plus or minus this much to --delay, at random (bytes of a stream never reorder)')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, '--forward: at most SIZE bytes per second, each direction (UDP: datagrams beyond it are dropped)')
            [CompletionResult]::new('--cut-after', '--cut-after', [CompletionResultType]::ParameterName, '--forward (TCP): reset both sides after SIZE bytes in all, or DURATION after connecting')
            [CompletionResult]::new('--drop', '--drop', [CompletionResultType]::ParameterName, '--forward (UDP): drop this percentage of datagrams, each direction (e.g. 5 or 0.5)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Echo every byte back to its sender (RFC 862)')
            [CompletionResult]::new('--upper', '--upper', [CompletionResultType]::ParameterName, 'Line echo, upper-cased; `quit` answers `bye` and closes')
            [CompletionResult]::new('--discard', '--discard', [CompletionResultType]::ParameterName, 'Read and count everything (RFC 863); -v prints bytes per connection')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Send an endless chargen pattern until the client closes (RFC 864)')
            [CompletionResult]::new('--time', '--time', [CompletionResultType]::ParameterName, 'Send the Unix time in seconds and a newline, then close')
            [CompletionResult]::new('--framed', '--framed', [CompletionResultType]::ParameterName, 'Echo frames: a 4-byte big-endian length, then that many bytes')
            [CompletionResult]::new('--chat', '--chat', [CompletionResultType]::ParameterName, 'Chat room: each line from a client goes to all the others, prefixed with the sender')
            [CompletionResult]::new('--socks5', '--socks5', [CompletionResultType]::ParameterName, 'A SOCKS5 proxy (CONNECT; names resolved here), like microsocks')
            [CompletionResult]::new('--http-proxy', '--http-proxy', [CompletionResultType]::ParameterName, 'An HTTP proxy for CONNECT tunnels only, like ncat -l --proxy-type http')
            [CompletionResult]::new('--dgram', '--dgram', [CompletionResultType]::ParameterName, 'Datagrams (SOCK_DGRAM) instead of a stream; modes: listen, --echo, --discard, --time')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Logs and the summary as one JSON object per line on stderr')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`)')
            [CompletionResult]::new('--forward-tls', '--forward-tls', [CompletionResultType]::ParameterName, '--forward: speak TLS to the target (verified against the system''s CAs, or --forward-tls-ca/-pin/-insecure)')
            [CompletionResult]::new('--forward-tls-insecure', '--forward-tls-insecure', [CompletionResultType]::ParameterName, '--forward-tls: accept any certificate from the target')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netkit;serve;help' {
            [CompletionResult]::new('tcp', 'tcp', [CompletionResultType]::ParameterValue, 'Serve over TCP (the default)')
            [CompletionResult]::new('udp', 'udp', [CompletionResultType]::ParameterValue, 'Serve over UDP')
            [CompletionResult]::new('unix', 'unix', [CompletionResultType]::ParameterValue, 'Serve on a Unix socket (a path, or @name for a Linux abstract socket): every TCP mode, or datagrams with --dgram')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'netkit;serve;help;tcp' {
            break
        }
        'netkit;serve;help;udp' {
            break
        }
        'netkit;serve;help;unix' {
            break
        }
        'netkit;serve;help;help' {
            break
        }
        'netkit;connect' {
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Connect timeout for each address [default: 10s; with -z, per port: 1s]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Connect timeout for each address [default: 10s; with -z, per port: 1s]')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close when no data moves either way for this long (exit code 4)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Like nc -q: after stdin EOF the whole reply is still read; once the peer has closed too, wait SECS, then exit')
            [CompletionResult]::new('--reply-timeout', '--reply-timeout', [CompletionResultType]::ParameterName, 'UDP: how long to wait for replies after stdin EOF [default: 1s]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Local address to connect from')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Local address to connect from')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Local port to connect from')
            [CompletionResult]::new('--source-port', '--source-port', [CompletionResultType]::ParameterName, 'Local port to connect from')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, '-z: how many ports to probe at once')
            [CompletionResult]::new('--hexdump', '--hexdump', [CompletionResultType]::ParameterName, 'Record every chunk both ways as a hex dump to FILE (`-`: stderr; at the prompt, the screen)')
            [CompletionResult]::new('--tls-ca', '--tls-ca', [CompletionResultType]::ParameterName, 'Trust the CAs in FILE (PEM) instead of the system''s; implies --tls')
            [CompletionResult]::new('--tls-pin', '--tls-pin', [CompletionResultType]::ParameterName, 'Trust exactly the certificate with this SHA-256 (as on netkit''s listening line, or `openssl x509 -fingerprint -sha256`); implies --tls')
            [CompletionResult]::new('--tls-sni', '--tls-sni', [CompletionResultType]::ParameterName, 'Server name to send (SNI) and to check the certificate against [default: the host]; implies --tls')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'ALPN protocols to offer (e.g. h2,http/1.1); implies --tls')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM), for servers that ask for one; implies --tls')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM)')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Go through a proxy: socks5://[USER:PASS@]HOST:PORT (the proxy resolves names) or http://[USER:PASS@]HOST:PORT (CONNECT)')
            [CompletionResult]::new('--proxy-auth', '--proxy-auth', [CompletionResultType]::ParameterName, 'Credentials for --proxy, when not in its URL')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Run CMD with the connection as its stdin and stdout (split at spaces, no shell), like ncat -e')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run CMD with the connection as its stdin and stdout (split at spaces, no shell), like ncat -e')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Run `/bin/sh -c CMD` with the connection as its stdin and stdout, like ncat -c')
            [CompletionResult]::new('--sh-exec', '--sh-exec', [CompletionResultType]::ParameterName, 'Run `/bin/sh -c CMD` with the connection as its stdin and stdout, like ncat -c')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the session''s bytes, both ways as they are, to FILE (like ncat -o); also at the prompt')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the session''s bytes, both ways as they are, to FILE (like ncat -o); also at the prompt')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Use UDP: stdin chunks become datagrams, replies go to stdout')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'Use UDP: stdin chunks become datagrams, replies go to stdout')
            [CompletionResult]::new('--no-shutdown', '--no-shutdown', [CompletionResultType]::ParameterName, 'Do not shut down the write side at stdin EOF')
            [CompletionResult]::new('--expect-reply', '--expect-reply', [CompletionResultType]::ParameterName, 'UDP: exit 5 when no reply came within --reply-timeout (without it, exit 0 like nc)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Set TCP_NODELAY (pipe mode always does: a small write never waits for an ACK)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Report the connection and how it ended on stderr (-z: every port, its state and time)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Report the connection and how it ended on stderr (-z: every port, its state and time)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'A prompt even when stdin is not a terminal (one line, one send)')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'A prompt even when stdin is not a terminal (one line, one send)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send every \n from stdin as \r\n, like nc -C (a \n already after \r is left alone; the prompt ends lines with \r\n)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send every \n from stdin as \r\n, like nc -C (a \n already after \r is left alone; the prompt ends lines with \r\n)')
            [CompletionResult]::new('-z', '-z', [CompletionResultType]::ParameterName, 'Probe PORT (a list: 20-30,80,443) and print the open ports; exit 0 if any is open')
            [CompletionResult]::new('--probe', '--probe', [CompletionResultType]::ParameterName, 'Probe PORT (a list: 20-30,80,443) and print the open ports; exit 0 if any is open')
            [CompletionResult]::new('--framed', '--framed', [CompletionResultType]::ParameterName, 'Send each stdin line as one frame (4-byte big-endian length + bytes); print each frame received as a line')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'A live byte counter and rate on stderr while piping (hidden when stderr is not a terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON summary object on stderr at exit (-z: one object per port on stdout)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Connect to a Unix socket: HOST is its path (@name: a Linux abstract name); with -u, a datagram socket')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect to a Unix socket: HOST is its path (@name: a Linux abstract name); with -u, a datagram socket')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS, verifying the server against the system''s CAs (or --tls-ca, --tls-pin)')
            [CompletionResult]::new('--tls-insecure', '--tls-insecure', [CompletionResultType]::ParameterName, 'Accept any certificate (no verification at all); implies --tls')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netkit;kv' {
            [CompletionResult]::new('--addr', '--addr', [CompletionResultType]::ParameterName, 'Server to talk to')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Talk to a server on this Unix socket instead (redis-server''s unixsocket)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Talk to a server on this Unix socket instead (redis-server''s unixsocket)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Database number to select (SELECT); the prompt shows it, as in 127.0.0.1:6380[2]>')
            [CompletionResult]::new('-3', '-3', [CompletionResultType]::ParameterName, 'Speak RESP3 (HELLO 3 on connect), as redis-cli -3')
            [CompletionResult]::new('--resp3', '--resp3', [CompletionResultType]::ParameterName, 'Speak RESP3 (HELLO 3 on connect), as redis-cli -3')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Print replies raw (bare values), even on a terminal')
            [CompletionResult]::new('--no-raw', '--no-raw', [CompletionResultType]::ParameterName, 'Print replies formatted like redis-cli, even when piped')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Read the last argument from stdin')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve a Redis-compatible key-value store (RESP2/RESP3, inline commands) and a line protocol (nc)')
            [CompletionResult]::new('check-log', 'check-log', [CompletionResultType]::ParameterValue, 'Check a --data log for damage; --fix repairs it, keeping a backup (like redis-check-aof)')
            break
        }
        'netkit;kv;serve' {
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Append every write to this log before acknowledging it; replay it at start')
            [CompletionResult]::new('--fsync', '--fsync', [CompletionResultType]::ParameterName, 'When the log is fsynced (with --data)')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'At most N clients at once; the next one gets an error and is closed')
            [CompletionResult]::new('--max-bulk', '--max-bulk', [CompletionResultType]::ParameterName, 'Largest bulk string (a key or value) a client may send')
            [CompletionResult]::new('--max-line', '--max-line', [CompletionResultType]::ParameterName, 'Longest line (line protocol) a client may send')
            [CompletionResult]::new('--max-args', '--max-args', [CompletionResultType]::ParameterName, 'Most arguments in one command')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Event-loop threads (0: one per core but one, left to the clients; at least one)')
            [CompletionResult]::new('--busy-poll', '--busy-poll', [CompletionResultType]::ParameterName, 'After work, poll this long without sleeping (faster replies, more CPU; 0: off; only when a core is left over beside the loops)')
            [CompletionResult]::new('--databases', '--databases', [CompletionResultType]::ParameterName, 'Number of databases (SELECT 0..N-1)')
            [CompletionResult]::new('--requirepass', '--requirepass', [CompletionResultType]::ParameterName, 'Clients must AUTH with this password first (CONFIG SET requirepass changes it)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Close a client idle this many seconds (0: never)')
            [CompletionResult]::new('--tcp-keepalive', '--tcp-keepalive', [CompletionResultType]::ParameterName, 'TCP keepalive probes every SECONDS, to release dead peers (0: off)')
            [CompletionResult]::new('--output-limit', '--output-limit', [CompletionResultType]::ParameterName, 'Disconnect a client whose unsent replies exceed SIZE (0: no limit), with a log line')
            [CompletionResult]::new('--pubsub-output-limit', '--pubsub-output-limit', [CompletionResultType]::ParameterName, 'The same for a client subscribed to pub/sub channels (Redis''s pubsub class)')
            [CompletionResult]::new('--busy-reply-threshold', '--busy-reply-threshold', [CompletionResultType]::ParameterName, 'A script running longer makes other clients'' commands answer -BUSY and SCRIPT KILL may stop it (0: never; CONFIG SET busy-reply-threshold|lua-time-limit MS)')
            [CompletionResult]::new('--notify-keyspace-events', '--notify-keyspace-events', [CompletionResultType]::ParameterName, 'Publish keyspace events of these classes, Redis''s letters: K (keyspace channels) and/or E (keyevent channels) with g $ l s h z x e t m d n or A (all but m and n), e.g. KEA (CONFIG SET notify-keyspace-events changes it)')
            [CompletionResult]::new('--maxmemory', '--maxmemory', [CompletionResultType]::ParameterName, 'Memory limit, as Redis reads it (100mb, 1gb, bytes; 0: none): past it keys are evicted by --maxmemory-policy, or (noeviction) commands that grow memory get -OOM. Counted as Redis does: the heap''s bytes')
            [CompletionResult]::new('--maxmemory-policy', '--maxmemory-policy', [CompletionResultType]::ParameterName, 'What to evict past --maxmemory: noeviction, allkeys-lru, allkeys-random, volatile-lru, volatile-random, volatile-ttl (allkeys-lfu and volatile-lfu evict as LRU: netkit counts no accesses)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Admit only clients in this network (CIDR or address; repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)')
            [CompletionResult]::new('--allow-file', '--allow-file', [CompletionResultType]::ParameterName, 'Read --allow networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--deny-file', '--deny-file', [CompletionResultType]::ParameterName, 'Read --deny networks from FILE, one per line, `#` comments')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Certificate chain to present (PEM); implies --tls')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file]')
            [CompletionResult]::new('--tls-ca', '--tls-ca', [CompletionResultType]::ParameterName, 'Require client certificates signed by a CA in FILE (PEM); implies --tls')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each connection (peer, bytes in/out, duration, how it ended)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Logs and the summary as one JSON object per line on stderr')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netkit;kv;check-log' {
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Repair: save FILE.bak, then rewrite FILE with only its good records')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netkit;bench' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Measure for this long (after --warmup) [default: 10s]')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Measure for this long (after --warmup) [default: 10s]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'throughput: move this many bytes in total instead of running for a duration')
            [CompletionResult]::new('--bytes', '--bytes', [CompletionResultType]::ParameterName, 'throughput: move this many bytes in total instead of running for a duration')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Block, message or datagram size [default: throughput 1MiB, latency 64, udp 1400]')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Block, message or datagram size [default: throughput 1MiB, latency 64, udp 1400]')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'throughput: parallel streams, each on its own thread')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'throughput: parallel streams, each on its own thread')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'latency, connect: concurrent connections (latency: beyond one per core, driven by readiness loops)')
            [CompletionResult]::new('--connections', '--connections', [CompletionResultType]::ParameterName, 'latency, connect: concurrent connections (latency: beyond one per core, driven by readiness loops)')
            [CompletionResult]::new('--warmup', '--warmup', [CompletionResultType]::ParameterName, 'Run this long before measuring; not counted [default: latency 1s, others 0]')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'latency: requests per second in all (open loop); udp: datagrams per second. Flat out when absent')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Print a row of figures every DURATION (e.g. 1s)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Print a row of figures every DURATION (e.g. 1s)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Connect timeout, and how long to wait for a reply before giving up')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Connect timeout, and how long to wait for a reply before giving up')
            [CompletionResult]::new('--max-loss', '--max-loss', [CompletionResultType]::ParameterName, 'udp --find-rate: the loss bound, in percent')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Over a Unix stream socket: the server at PATH (@name: abstract), or an in-process one')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Over a Unix stream socket: the server at PATH (@name: abstract), or an in-process one')
            [CompletionResult]::new('--tls-ca', '--tls-ca', [CompletionResultType]::ParameterName, 'Trust the CAs in FILE (PEM) instead of the system''s; implies --tls')
            [CompletionResult]::new('--tls-pin', '--tls-pin', [CompletionResultType]::ParameterName, 'Trust exactly the certificate with this SHA-256 (as on netkit''s listening line, or `openssl x509 -fingerprint -sha256`); implies --tls')
            [CompletionResult]::new('--tls-sni', '--tls-sni', [CompletionResultType]::ParameterName, 'Server name to send (SNI) and to check the certificate against [default: the host]; implies --tls')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'ALPN protocols to offer (e.g. h2,http/1.1); implies --tls')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM), for servers that ask for one; implies --tls')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM)')
            [CompletionResult]::new('--reverse', '--reverse', [CompletionResultType]::ParameterName, 'throughput: read from a source server instead of writing to a discard server')
            [CompletionResult]::new('--bidir', '--bidir', [CompletionResultType]::ParameterName, 'throughput: write and read at once through an echo server')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar (it is also hidden when stderr is not a terminal)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar (it is also hidden when stderr is not a terminal)')
            [CompletionResult]::new('--find-rate', '--find-rate', [CompletionResultType]::ParameterName, 'udp: find the highest rate with less than --max-loss lost (a trial of -t per step)')
            [CompletionResult]::new('--no-gso', '--no-gso', [CompletionResultType]::ParameterName, 'udp: one buffer per datagram (no GSO/GRO runs; still batched with sendmmsg/recvmmsg)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout instead of the table')
            [CompletionResult]::new('--json-stream', '--json-stream', [CompletionResultType]::ParameterName, 'Print one JSON object per interval (default 1s) and a summary, one per line')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Speak TLS, verifying the server against the system''s CAs (or --tls-ca, --tls-pin)')
            [CompletionResult]::new('--tls-insecure', '--tls-insecure', [CompletionResultType]::ParameterName, 'Accept any certificate (no verification at all); implies --tls')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netkit;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netkit;man' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Write netkit.1 and one page per subcommand into this directory')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netkit;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Listen on a port: netcat listen mode or a classic service (echo, discard, chargen, time...)')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to HOST PORT and pipe stdin/stdout through the socket')
            [CompletionResult]::new('kv', 'kv', [CompletionResultType]::ParameterValue, 'A key-value server (Redis protocol and a line protocol) and its client')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Measure throughput, latency, connection rate or UDP loss (in-process server or HOST:PORT)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (or write every page into a directory)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'netkit;help;serve' {
            [CompletionResult]::new('tcp', 'tcp', [CompletionResultType]::ParameterValue, 'Serve over TCP (the default)')
            [CompletionResult]::new('udp', 'udp', [CompletionResultType]::ParameterValue, 'Serve over UDP')
            [CompletionResult]::new('unix', 'unix', [CompletionResultType]::ParameterValue, 'Serve on a Unix socket (a path, or @name for a Linux abstract socket): every TCP mode, or datagrams with --dgram')
            break
        }
        'netkit;help;serve;tcp' {
            break
        }
        'netkit;help;serve;udp' {
            break
        }
        'netkit;help;serve;unix' {
            break
        }
        'netkit;help;connect' {
            break
        }
        'netkit;help;kv' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve a Redis-compatible key-value store (RESP2/RESP3, inline commands) and a line protocol (nc)')
            [CompletionResult]::new('check-log', 'check-log', [CompletionResultType]::ParameterValue, 'Check a --data log for damage; --fix repairs it, keeping a backup (like redis-check-aof)')
            break
        }
        'netkit;help;kv;serve' {
            break
        }
        'netkit;help;kv;check-log' {
            break
        }
        'netkit;help;bench' {
            break
        }
        'netkit;help;completions' {
            break
        }
        'netkit;help;man' {
            break
        }
        'netkit;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
