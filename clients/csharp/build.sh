#!/bin/sh
# Compiles the programs and the tests with Mono's C# compiler into build/:
#   interop.dll       the protocols (src/Rudp, src/Hello)
#   hello.exe, rudp-sender.exe, rudp-receiver.exe   the four roles
#   tests.exe         the unit tests (run: mono build/tests.exe)
set -eu
cd "$(dirname "$0")"
mkdir -p build
MCS="mcs -nologo -warnaserror -optimize+ -langversion:7"
$MCS -target:library -out:build/interop.dll -r:Mono.Posix.dll src/*.cs src/Rudp/*.cs src/Hello/*.cs
$MCS -out:build/hello.exe -r:build/interop.dll src/Programs/HelloProgram.cs
$MCS -out:build/rudp-sender.exe -r:build/interop.dll src/Programs/SenderProgram.cs
$MCS -out:build/rudp-receiver.exe -r:build/interop.dll src/Programs/ReceiverProgram.cs
$MCS -out:build/tests.exe -r:build/interop.dll -r:System.Json.dll tests/*.cs
cp -r tests/vectors build/
