# frozen_string_literal: true

require_relative "../hello"

module Hello
  # The client: connects, sends "Hello in Ruby", prints the reply (HELLO-5..8).
  module Client
    HALF_CLOSE_DELAY = 3.0 # HELLO-6: seconds to wait for a reply before half-closing

    class Failure < StandardError; end

    module_function

    # Runs one exchange with +host+:+port+; returns the exit status.
    def run(host, port)
      puts Hello.text(exchange(host, port)) # HELLO-7: the reply alone on its line
      0
    rescue Failure => e
      warn "hello client: #{e.message}" # HELLO-8
      1
    end

    # Returns the server's reply or raises Failure saying what went wrong.
    def exchange(host, port)
      deadline = Hello.clock + TIMEOUT
      socket = connect(host, port, deadline)
      socket.write("Hello in #{LANGUAGE}\n") # HELLO-1, HELLO-3: one line, one write
      # HELLO-6: some servers answer only at the end of input. Give the others
      # HALF_CLOSE_DELAY with the connection fully open, then half-close: we
      # can still read, and those servers get their end of input.
      socket.close_write unless socket.wait_readable(HALF_CLOSE_DELAY)
      Hello.read_message(socket, deadline) or
        raise Failure, "#{host} port #{port} closed the connection without replying"
    rescue NoMessage
      raise Failure, "no reply from #{host} port #{port} within #{TIMEOUT.round} s"
    rescue SystemCallError, IOError => e
      raise Failure, "connection to #{host} port #{port} failed: #{e.message}"
    ensure
      socket&.close
    end

    # HELLO-5: resolves +host+ and tries each of its addresses in turn.
    def connect(host, port, deadline)
      addresses = Addrinfo.getaddrinfo(host, port, nil, :STREAM)
      errors = addresses.map do |address|
        return address.connect(timeout: [deadline - Hello.clock, 0.1].max)
      rescue SystemCallError => e # refused, unreachable, timed out...
        "#{e.message.sub(/ - connect\(2\).*/, "")} (#{address.ip_address})"
      end
      raise Failure, "could not connect to #{host} port #{port}: #{errors.join(", ")}"
    rescue SocketError => e
      raise Failure, "could not resolve host #{host}: #{e.message}"
    end
  end
end
