"""The Python course sender with the timer and fast retransmit of a first
attempt: a fixed 500 ms timeout and no reaction to duplicate acks."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..", "clients", "python"))
import sender  # noqa: E402

sender.INITIAL_RTO = sender.MIN_RTO = sender.MAX_RTO = 0.5
sender.DUPACK_THRESHOLD = 10**9
sys.exit(sender.main())
