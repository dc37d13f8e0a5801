# frozen_string_literal: true

require_relative "test_helper"
require "open3"
require "socket"
require "tmpdir"

# The programs in bin/, started as the suite starts them (interop.json), on
# loopback.
class ProgramsTest < Minitest::Test
  BIN = File.expand_path("../bin", __dir__)

  def setup
    @dir = Dir.mktmpdir
    @pids = []
  end

  def teardown
    @pids.each do |pid|
      Process.kill("KILL", pid)
      Process.wait(pid)
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end
    FileUtils.rm_rf(@dir)
  end

  def test_file_transfer_with_sack
    port = free_port(:DGRAM)
    out = File.join(@dir, "out")
    Dir.mkdir(out)
    receiver = start_program("rudp-receiver", "-p", port.to_s, "-t", "10", "-k", chdir: out)
    wait_for_port(port, :DGRAM)
    input = File.join(@dir, "input")
    File.binwrite(input, Random.new(7).bytes(100_000))
    _, err, status = run_program("rudp-sender", "-a", "localhost", "-p", port.to_s, "-f", input, "-k")
    assert status.success?, err
    files = Dir.children(out)
    assert_equal 1, files.size, files.inspect
    assert_equal File.binread(input), File.binread(File.join(out, files.first))
    # RUDP-61: stopped by SIGTERM, it exits 0.
    Process.kill("TERM", receiver)
    assert Process.wait2(receiver).last.success?
  end

  def test_sender_gives_up_with_a_message
    port = free_port(:DGRAM)
    _, err, status = run_program("rudp-sender", "-a", "127.0.0.1", "-p", port.to_s, "--give-up", "1", stdin_data: "x")
    refute status.success?
    assert_match(/rudp-sender: giving up on 127.0.0.1 port #{port}: start was never acknowledged/, err)
  end

  def test_hello_challenge
    port = free_port(:STREAM)
    server = start_program("hello", "server", port.to_s, "--challenge", out: (log = File.join(@dir, "server.out")))
    wait_for_port(port, :STREAM)
    out, err, status = run_program("hello", "client", "localhost", port.to_s)
    assert status.success?, err
    assert_equal "Goodbye Ruby from Ruby\n", out
    Process.kill("TERM", server)
    assert Process.wait2(server).last.success?
    assert_equal "127.0.0.1\nHello in Ruby\n", File.read(log)
  end

  def test_hello_client_without_server
    out, err, status = run_program("hello", "client", "127.0.0.1", free_port(:STREAM).to_s)
    refute status.success?
    assert_empty out
    assert_match(/hello client: could not connect to 127.0.0.1 port \d+: Connection refused/, err)
  end

  private

  def command(program, *args) = ["ruby", "--disable-gems", File.join(BIN, program), *args]

  def start_program(program, *args, chdir: @dir, out: File::NULL)
    pid = spawn(*command(program, *args), chdir: chdir, out: out, err: File::NULL)
    @pids << pid
    pid
  end

  def run_program(program, *args, stdin_data: "") = Open3.capture3(*command(program, *args), stdin_data: stdin_data)

  def free_port(type)
    socket = Socket.new(:INET, type)
    socket.bind(Addrinfo.new(Socket.sockaddr_in(0, "127.0.0.1")))
    socket.local_address.ip_port
  ensure
    socket.close
  end

  # Polls until something listens on +port+, as the suite's readiness check.
  def wait_for_port(port, type)
    hex = format(":%04X ", port)
    files = type == :DGRAM ? %w[/proc/net/udp /proc/net/udp6] : %w[/proc/net/tcp /proc/net/tcp6]
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
    until files.any? { |f| File.exist?(f) && File.read(f).include?(hex) }
      flunk "nothing listens on port #{port}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.01
    end
  end
end
