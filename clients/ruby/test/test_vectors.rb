# frozen_string_literal: true

require_relative "test_helper"
require "fileutils"
require "tmpdir"
require "rudp/receiver"

# Every vector of spec/vectors/datagrams.json and receiver.json.
class VectorsTest < Minitest::Test
  def test_copies_are_current
    skip "spec/vectors is not here (docker build)" unless Dir.exist?(Vectors::SPEC_DIR)
    %w[datagrams.json receiver.json].each do |name|
      assert FileUtils.compare_file(File.join(Vectors::SPEC_DIR, name), File.join(Vectors::DIR, name)),
             "test/vectors/#{name} is stale: copy spec/vectors/#{name} over it"
    end
  end

  Vectors.load("datagrams.json").fetch("vectors").each do |vector|
    define_method("test_datagram: #{vector["name"]}") { check_datagram(vector) }
  end

  Vectors.load("receiver.json").fetch("vectors").each do |script|
    define_method("test_receiver: #{script["name"]}") { run_script(script) }
  end

  private

  def check_datagram(vector)
    datagram = Vectors.bytes(vector["datagram"])
    unless vector["valid"]
      error = assert_raises(RUDP::Malformed) { RUDP.parse(datagram) }
      assert_equal vector["error"], error.error.to_s, "error class"
      return
    end

    packet = RUDP.parse(datagram)
    expected = vector["packet"]
    assert_equal expected["type"], packet.type
    assert_equal Integer(expected["seqno"], 10), packet.seqno
    assert_equal Vectors.bytes(expected["data"]), packet.data if expected["data"]
    assert_equal (expected["sacks"] || []).map { |s| Integer(s, 10) }, packet.sacks
    assert_equal datagram, encode(packet) if vector["canonical"]
  end

  def encode(packet)
    case packet.type
    when "ack" then RUDP.encode_ack(packet.seqno)
    when "sack" then RUDP.encode_ack(packet.seqno, packet.sacks)
    else RUDP.encode(packet.type, packet.seqno, packet.data)
    end
  end

  # Feeds the script's datagrams to the receiver's logic with a fake clock,
  # checks every ack, then the files left in the output directory.
  def run_script(script)
    Dir.mktmpdir do |dir|
      receiver = RUDP::Receiver.new(dir: dir, timeout: script["idle_timeout_ms"] / 1000.0, sack: script["sack"])
      script["steps"].each_with_index do |step, i|
        now = step["at_ms"] / 1000.0
        receiver.expire(now)
        ip, port = step["from"].match(/\A\[?(.*?)\]?:(\d+)\z/).captures
        ack = receiver.handle(Vectors.bytes(step["datagram"]), ip, Integer(port), now)
        where = "step #{i} (#{step["datagram"]["escaped"][0, 40]}): #{step["note"]}"
        if step["ack"]
          assert_equal Vectors.bytes(step["ack"]), ack, where
        else
          assert_nil ack, where
        end
      end
      receiver.close
      expected = script["files"].to_h { |f| [f["name"], Vectors.bytes(f["content"])] }
      actual = Dir.children(dir).to_h { |name| [name, File.binread(File.join(dir, name))] }
      assert_equal expected, actual, "output files"
    end
  end
end
