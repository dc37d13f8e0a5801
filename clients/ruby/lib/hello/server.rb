# frozen_string_literal: true

require_relative "../hello"

module Hello
  # The server: answers every client, concurrently, forever (HELLO-10..14).
  class Server
    LINGER = 2.0 # HELLO-12: how long to wait for the client's close after the reply

    def initialize(port, challenge: false)
      @port = port
      @challenge = challenge
      @output = Mutex.new # keeps the lines of concurrent clients apart
    end

    # Serves until the process is stopped. Raises SystemCallError when it
    # cannot listen.
    def run
      servers = Socket.tcp_server_sockets(@port) # HELLO-10: every address, IPv6 and IPv4
      log "listening on TCP port #{servers.first.local_address.ip_port}" # the real one, also for 0
      loop do # HELLO-13: forever
        Socket.accept_loop(servers) { |connection, address| serve_in_thread(connection, address) }
      rescue SystemCallError => e # e.g. out of file descriptors: try again soon
        log "accept failed: #{e.message}"
        sleep 0.1
      end
    end

    private

    # HELLO-14: a thread per connection, so that a silent client blocks nobody.
    def serve_in_thread(connection, address)
      Thread.new { serve(connection, address) }
    rescue ThreadError => e # too many threads: the sandbox limits processes
      log "dropped a connection: #{e.message}"
      connection.close
    end

    def serve(connection, address)
      ip = address.ipv6_v4mapped? ? address.ipv6_to_ipv4.ip_address : address.ip_address
      message = Hello.read_message(connection, Hello.clock + TIMEOUT)
      return log("#{ip}: closed without a message") if message.nil?

      text = Hello.text(message)
      @output.synchronize do # HELLO-11: printed, and flushed, before the reply
        puts ip if @challenge # HELLO-21: the client's address, on its own line first
        puts text
        $stdout.flush
      end
      connection.write(@challenge ? Hello.challenge_reply(message) : "Goodbye in #{LANGUAGE}\n") # HELLO-4, HELLO-20
      close_gracefully(connection)
    rescue NoMessage, SystemCallError, IOError => e
      log "#{ip}: #{e.message}"
    ensure
      connection.close
    end

    # HELLO-12: half-close, then read until the client closes (at most LINGER).
    # Closing with unread input would make the kernel reset the connection,
    # and a reset can destroy the reply before the client has read it.
    def close_gracefully(connection)
      connection.close_write
      deadline = Hello.clock + LINGER
      while (wait = deadline - Hello.clock).positive? && connection.wait_readable(wait)
        connection.readpartial(4096)
      end
    rescue EOFError, SystemCallError
      nil # the client is gone: nothing more to do
    end

    def log(message) = warn("hello server: #{message}")
  end
end
