
use builtin;
use str;

set edit:completion:arg-completer[netkit] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'netkit'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'netkit'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Listen on a port: netcat listen mode or a classic service (echo, discard, chargen, time...)'
            cand connect 'Connect to HOST PORT and pipe stdin/stdout through the socket'
            cand kv 'A key-value server (Redis protocol and a line protocol) and its client'
            cand bench 'Measure throughput, latency, connection rate or UDP loss (in-process server or HOST:PORT)'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (or write every page into a directory)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'netkit;serve'= {
            cand --exec 'Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell)'
            cand --sh-exec 'Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout'
            cand --bind 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)'
            cand --count 'Exit after this many connections (UDP: datagrams)'
            cand --idle-timeout 'Close a connection with no traffic for this long (e.g. 30s)'
            cand --grace 'On Ctrl-C/SIGTERM, how long live connections may take to finish'
            cand --allow 'Admit only clients in this network (CIDR or address; repeatable)'
            cand --deny 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)'
            cand --allow-file 'Read --allow networks from FILE, one per line, `#` comments'
            cand --deny-file 'Read --deny networks from FILE, one per line, `#` comments'
            cand --hexdump 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)'
            cand --max-conns 'At most N connections at once; further clients are accepted and closed at once'
            cand --keepalive 'Enable TCP keepalive, probing after this much idle time'
            cand --max-frame '--framed: the largest frame accepted; a bigger length closes the connection'
            cand --echo 'Echo every byte back to its sender (RFC 862)'
            cand --upper 'Line echo, upper-cased; `quit` answers `bye` and closes'
            cand --discard 'Read and count everything (RFC 863); -v prints bytes per connection'
            cand --source 'Send an endless chargen pattern until the client closes (RFC 864)'
            cand --time 'Send the Unix time in seconds and a newline, then close'
            cand --framed 'Echo frames: a 4-byte big-endian length, then that many bytes'
            cand --chat 'Chat room: each line from a client goes to all the others, prefixed with the sender'
            cand -v 'Log each connection (peer, bytes in/out, duration, how it ended)'
            cand --verbose 'Log each connection (peer, bytes in/out, duration, how it ended)'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --json 'Logs and the summary as one JSON object per line on stderr'
            cand -k 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)'
            cand --keep-open 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)'
            cand --nodelay 'Set TCP_NODELAY on each connection (listen and exec modes always do)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand tcp 'Serve over TCP (the default)'
            cand udp 'Serve over UDP'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'netkit;serve;tcp'= {
            cand --exec 'Run CMD for each connection, the socket as its stdin/stdout (split at spaces, no shell)'
            cand --sh-exec 'Run `/bin/sh -c CMD` for each connection, the socket as its stdin/stdout'
            cand --bind 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)'
            cand --count 'Exit after this many connections (UDP: datagrams)'
            cand --idle-timeout 'Close a connection with no traffic for this long (e.g. 30s)'
            cand --grace 'On Ctrl-C/SIGTERM, how long live connections may take to finish'
            cand --allow 'Admit only clients in this network (CIDR or address; repeatable)'
            cand --deny 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)'
            cand --allow-file 'Read --allow networks from FILE, one per line, `#` comments'
            cand --deny-file 'Read --deny networks from FILE, one per line, `#` comments'
            cand --hexdump 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)'
            cand --max-conns 'At most N connections at once; further clients are accepted and closed at once'
            cand --keepalive 'Enable TCP keepalive, probing after this much idle time'
            cand --max-frame '--framed: the largest frame accepted; a bigger length closes the connection'
            cand --echo 'Echo every byte back to its sender (RFC 862)'
            cand --upper 'Line echo, upper-cased; `quit` answers `bye` and closes'
            cand --discard 'Read and count everything (RFC 863); -v prints bytes per connection'
            cand --source 'Send an endless chargen pattern until the client closes (RFC 864)'
            cand --time 'Send the Unix time in seconds and a newline, then close'
            cand --framed 'Echo frames: a 4-byte big-endian length, then that many bytes'
            cand --chat 'Chat room: each line from a client goes to all the others, prefixed with the sender'
            cand -v 'Log each connection (peer, bytes in/out, duration, how it ended)'
            cand --verbose 'Log each connection (peer, bytes in/out, duration, how it ended)'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --json 'Logs and the summary as one JSON object per line on stderr'
            cand -k 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)'
            cand --keep-open 'Keep listening after the first client (listen mode: many clients, stdin to all; the other modes always do)'
            cand --nodelay 'Set TCP_NODELAY on each connection (listen and exec modes always do)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netkit;serve;udp'= {
            cand --bind 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)'
            cand --count 'Exit after this many connections (UDP: datagrams)'
            cand --idle-timeout 'Close a connection with no traffic for this long (e.g. 30s)'
            cand --grace 'On Ctrl-C/SIGTERM, how long live connections may take to finish'
            cand --allow 'Admit only clients in this network (CIDR or address; repeatable)'
            cand --deny 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)'
            cand --allow-file 'Read --allow networks from FILE, one per line, `#` comments'
            cand --deny-file 'Read --deny networks from FILE, one per line, `#` comments'
            cand --hexdump 'Record every chunk both ways as a hex dump to FILE (`-`: stderr)'
            cand --echo 'Send every datagram back to its sender'
            cand --discard 'Count datagrams and bytes'
            cand --time 'Answer a `TIME` datagram with the Unix time; anything else with an error datagram'
            cand -v 'Log each connection (peer, bytes in/out, duration, how it ended)'
            cand --verbose 'Log each connection (peer, bytes in/out, duration, how it ended)'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --json 'Logs and the summary as one JSON object per line on stderr'
            cand -k 'Accepted for nc -luk / ncat -luk: every UDP mode already serves all peers'
            cand --keep-open 'Accepted for nc -luk / ncat -luk: every UDP mode already serves all peers'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netkit;serve;help'= {
            cand tcp 'Serve over TCP (the default)'
            cand udp 'Serve over UDP'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'netkit;serve;help;tcp'= {
        }
        &'netkit;serve;help;udp'= {
        }
        &'netkit;serve;help;help'= {
        }
        &'netkit;connect'= {
            cand -w 'Connect timeout for each address [default: 10s; with -z, per port: 1s]'
            cand --timeout 'Connect timeout for each address [default: 10s; with -z, per port: 1s]'
            cand --idle-timeout 'Close when no data moves either way for this long (exit code 4)'
            cand -q 'Like nc -q: after stdin EOF the whole reply is still read; once the peer has closed too, wait SECS, then exit'
            cand --reply-timeout 'UDP: how long to wait for replies after stdin EOF'
            cand -s 'Local address to connect from'
            cand --source 'Local address to connect from'
            cand -p 'Local port to connect from'
            cand --source-port 'Local port to connect from'
            cand --concurrency '-z: how many ports to probe at once'
            cand --hexdump 'Record every chunk both ways as a hex dump to FILE (`-`: stderr; at the prompt, the screen)'
            cand -o 'Write the session''s bytes, both ways as they are, to FILE (like ncat -o); also at the prompt'
            cand --output 'Write the session''s bytes, both ways as they are, to FILE (like ncat -o); also at the prompt'
            cand -u 'Use UDP: stdin chunks become datagrams, replies go to stdout'
            cand --udp 'Use UDP: stdin chunks become datagrams, replies go to stdout'
            cand --no-shutdown 'Do not shut down the write side at stdin EOF'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand --nodelay 'Set TCP_NODELAY (pipe mode always does: a small write never waits for an ACK)'
            cand -v 'Report the connection and how it ended on stderr (-z: every port, its state and time)'
            cand --verbose 'Report the connection and how it ended on stderr (-z: every port, its state and time)'
            cand -i 'A prompt even when stdin is not a terminal (one line, one send)'
            cand --interactive 'A prompt even when stdin is not a terminal (one line, one send)'
            cand -C 'Send every \n from stdin as \r\n, like nc -C (a \n already after \r is left alone; the prompt ends lines with \r\n)'
            cand --crlf 'Send every \n from stdin as \r\n, like nc -C (a \n already after \r is left alone; the prompt ends lines with \r\n)'
            cand -z 'Probe PORT (a list: 20-30,80,443) and print the open ports; exit 0 if any is open'
            cand --probe 'Probe PORT (a list: 20-30,80,443) and print the open ports; exit 0 if any is open'
            cand --framed 'Send each stdin line as one frame (4-byte big-endian length + bytes); print each frame received as a line'
            cand --progress 'A live byte counter and rate on stderr while piping (hidden when stderr is not a terminal)'
            cand --json 'One JSON summary object on stderr at exit (-z: one object per port on stdout)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netkit;kv'= {
            cand --addr 'Server to talk to'
            cand --raw 'Print replies raw (bare values), even on a terminal'
            cand --no-raw 'Print replies formatted like redis-cli, even when piped'
            cand -x 'Read the last argument from stdin'
            cand -h 'Print help'
            cand --help 'Print help'
            cand serve 'Serve a Redis-compatible key-value store (RESP2/RESP3, inline commands) and a line protocol (nc)'
            cand check-log 'Check a --data log for damage; --fix repairs it, keeping a backup (like redis-check-aof)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'netkit;kv;serve'= {
            cand --bind 'Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts)'
            cand --data 'Append every write to this log before acknowledging it; replay it at start'
            cand --fsync 'When the log is fsynced (with --data)'
            cand --max-conns 'At most N clients at once; the next one gets an error and is closed'
            cand --max-bulk 'Largest bulk string (a key or value) a client may send'
            cand --max-line 'Longest line (line protocol) a client may send'
            cand --max-args 'Most arguments in one command'
            cand --threads 'Event-loop threads (0: one per core)'
            cand --databases 'Number of databases (SELECT 0..N-1)'
            cand --requirepass 'Clients must AUTH with this password first (CONFIG SET requirepass changes it)'
            cand --timeout 'Close a client idle this many seconds (0: never)'
            cand --tcp-keepalive 'TCP keepalive probes every SECONDS, to release dead peers (0: off)'
            cand --output-limit 'Disconnect a client whose unsent replies exceed SIZE (0: no limit), with a log line'
            cand --allow 'Admit only clients in this network (CIDR or address; repeatable)'
            cand --deny 'Refuse clients in this network (CIDR or address; repeatable; wins over --allow)'
            cand --allow-file 'Read --allow networks from FILE, one per line, `#` comments'
            cand --deny-file 'Read --deny networks from FILE, one per line, `#` comments'
            cand -v 'Log each connection (peer, bytes in/out, duration, how it ended)'
            cand --verbose 'Log each connection (peer, bytes in/out, duration, how it ended)'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --json 'Logs and the summary as one JSON object per line on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'netkit;kv;check-log'= {
            cand --fix 'Repair: save FILE.bak, then rewrite FILE with only its good records'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netkit;kv;help'= {
            cand serve 'Serve a Redis-compatible key-value store (RESP2/RESP3, inline commands) and a line protocol (nc)'
            cand check-log 'Check a --data log for damage; --fix repairs it, keeping a backup (like redis-check-aof)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'netkit;kv;help;serve'= {
        }
        &'netkit;kv;help;check-log'= {
        }
        &'netkit;kv;help;help'= {
        }
        &'netkit;bench'= {
            cand -t 'Measure for this long (after --warmup) [default: 10s]'
            cand --duration 'Measure for this long (after --warmup) [default: 10s]'
            cand -n 'throughput: move this many bytes in total instead of running for a duration'
            cand --bytes 'throughput: move this many bytes in total instead of running for a duration'
            cand -l 'Block, message or datagram size [default: throughput 1MiB, latency 64, udp 1400]'
            cand --size 'Block, message or datagram size [default: throughput 1MiB, latency 64, udp 1400]'
            cand -P 'throughput: parallel streams, each on its own thread'
            cand --parallel 'throughput: parallel streams, each on its own thread'
            cand -c 'latency, connect: concurrent connections (latency: beyond one per core, driven by readiness loops)'
            cand --connections 'latency, connect: concurrent connections (latency: beyond one per core, driven by readiness loops)'
            cand --warmup 'Run this long before measuring; not counted [default: latency 1s, others 0]'
            cand --rate 'latency: requests per second in all (open loop); udp: datagrams per second. Flat out when absent'
            cand -i 'Print a row of figures every DURATION (e.g. 1s)'
            cand --interval 'Print a row of figures every DURATION (e.g. 1s)'
            cand -w 'Connect timeout, and how long to wait for a reply before giving up'
            cand --timeout 'Connect timeout, and how long to wait for a reply before giving up'
            cand --reverse 'throughput: read from a source server instead of writing to a discard server'
            cand --bidir 'throughput: write and read at once through an echo server'
            cand -q 'No progress bar (it is also hidden when stderr is not a terminal)'
            cand --quiet 'No progress bar (it is also hidden when stderr is not a terminal)'
            cand --json 'Print one JSON summary object on stdout instead of the table'
            cand --json-stream 'Print one JSON object per interval (default 1s) and a summary, one per line'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netkit;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netkit;man'= {
            cand --out-dir 'Write netkit.1 and one page per subcommand into this directory'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netkit;help'= {
            cand serve 'Listen on a port: netcat listen mode or a classic service (echo, discard, chargen, time...)'
            cand connect 'Connect to HOST PORT and pipe stdin/stdout through the socket'
            cand kv 'A key-value server (Redis protocol and a line protocol) and its client'
            cand bench 'Measure throughput, latency, connection rate or UDP loss (in-process server or HOST:PORT)'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (or write every page into a directory)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'netkit;help;serve'= {
            cand tcp 'Serve over TCP (the default)'
            cand udp 'Serve over UDP'
        }
        &'netkit;help;serve;tcp'= {
        }
        &'netkit;help;serve;udp'= {
        }
        &'netkit;help;connect'= {
        }
        &'netkit;help;kv'= {
            cand serve 'Serve a Redis-compatible key-value store (RESP2/RESP3, inline commands) and a line protocol (nc)'
            cand check-log 'Check a --data log for damage; --fix repairs it, keeping a backup (like redis-check-aof)'
        }
        &'netkit;help;kv;serve'= {
        }
        &'netkit;help;kv;check-log'= {
        }
        &'netkit;help;bench'= {
        }
        &'netkit;help;completions'= {
        }
        &'netkit;help;man'= {
        }
        &'netkit;help;help'= {
        }
    ]
    $completions[$command]
}
