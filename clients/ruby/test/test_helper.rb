# frozen_string_literal: true

require "minitest/autorun"
require "base64"
require "json"

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)

# The spec's test vectors (spec/vectors/README.md), copied into test/vectors
# so that the tests also run inside `docker build`, where only this folder is
# visible. test_vectors.rb checks that the copies are current.
module Vectors
  DIR = File.expand_path("vectors", __dir__)
  SPEC_DIR = File.expand_path("../../../spec/vectors", __dir__)

  module_function

  def load(name) = JSON.parse(File.read(File.join(DIR, name)))

  # A byte string of the vectors: { "base64": ..., "escaped": ... }.
  def bytes(field) = Base64.strict_decode64(field.fetch("base64"))
end
