// The RUDP receiver's logic (spec/rudp.md), without any I/O or clock: the
// caller passes each datagram with its source and the time, and carries out
// the returned step (write data, finish the file, send the ack). Keeping the
// state machine pure makes it easy to test and to read.
import { MAX_SEQNO, encodeAck, parse } from './rudp.js';

export const WINDOW = 5; // RUDP-12: next-expected .. next-expected+4 are buffered
export const MAX_TRANSFERS = 256; // open files at once; a flood of starts cannot exhaust descriptors

const byValue = (a, b) => (a < b ? -1 : a > b ? 1 : 0); // sorts BigInts

// Transfer is one transfer's state: the next expected seqno and the
// out-of-order packets buffered inside the window.
export class Transfer {
  constructor(start, sack) {
    this.first = start.seqno; // seqno of the start packet
    this.startData = Buffer.from(start.data); // to tell a retransmitted start from a new one (RUDP-18)
    this.next = start.seqno; // every seqno below it has been delivered
    this.done = false; // end delivered in order (RUDP-14)
    this.sack = sack;
    this.buffered = new Map(); // seqno -> packet, only seqnos in the window
  }

  isSameStart(packet) {
    return packet.seqno === this.first && packet.data.equals(this.startData);
  }

  // handle takes one valid start/data/end packet and returns the data that
  // became deliverable in order (an array of Buffers) and whether this
  // packet completed the transfer.
  handle(packet) {
    const deliver = [];
    let completed = false;
    // RUDP-12: only the window is buffered, anything else is dropped (but
    // still acked: RUDP-13). After completion nothing is accepted (RUDP-17).
    // Seqno 2^64-1 can never be delivered: the ack after it would not fit
    // in 64 bits (RUDP-3).
    const inWindow = packet.seqno >= this.next && packet.seqno < this.next + BigInt(WINDOW);
    if (!this.done && inWindow && packet.seqno !== MAX_SEQNO) {
      if (!this.buffered.has(packet.seqno)) this.buffered.set(packet.seqno, packet);
      for (let p = this.buffered.get(this.next); p; p = this.buffered.get(this.next)) {
        this.buffered.delete(this.next);
        deliver.push(p.data);
        this.next++;
        if (p.type === 'end') {
          // RUDP-14: complete. Nothing follows end (RUDP-7).
          this.done = completed = true;
          this.buffered.clear();
          break;
        }
      }
    }
    return { deliver, completed };
  }

  // ack is the answer to every valid packet: the cumulative next-expected
  // seqno (RUDP-13), in SACK mode with the buffered seqnos ascending (RUDP-31).
  ack() {
    return encodeAck(this.next, this.sack ? [...this.buffered.keys()].sort(byValue) : undefined);
  }
}

// Receiver keeps one Transfer per source address (RUDP-10).
export class Receiver {
  constructor({ sack = false, idleTimeoutMs = 10_000, maxTransfers = MAX_TRANSFERS } = {}) {
    this.sack = sack;
    this.idleTimeoutMs = idleTimeoutMs;
    this.maxTransfers = maxTransfers;
    this.peers = new Map(); // source "ip:port" -> { transfer, lastSeen }
  }

  // handle processes one datagram from source (any stable text, e.g.
  // "172.18.0.3:40000") received at time now (ms). It returns a step for the
  // caller to carry out in this order: on `begin` start a fresh output
  // (abandoning any open one), append `deliver`, on `complete` finish the
  // output, and only then send `ack` (RUDP-14). When the datagram is
  // dropped, `drop` says why and there is no ack.
  handle(now, source, datagram) {
    let packet;
    try {
      packet = parse(datagram);
    } catch (err) {
      return { drop: err.message }; // RUDP-8: silently dropped, never acked
    }
    if (packet.type === 'ack' || packet.type === 'sack') return { packet, drop: `${packet.type} sent to a receiver` };

    let peer = this.peers.get(source);
    let begin = false;
    if (packet.type === 'start' && !peer?.transfer.isSameStart(packet)) {
      // RUDP-11, RUDP-18: a start that is not a retransmission of the current
      // transfer's start begins a new transfer, replacing that one.
      if (!peer && this.peers.size >= this.maxTransfers) return { packet, drop: 'too many transfers' };
      peer = { transfer: new Transfer(packet, this.sack) };
      this.peers.set(source, peer);
      begin = true;
    } else if (!peer) {
      return { packet, drop: 'no transfer from this address (RUDP-11)' };
    }
    peer.lastSeen = now;
    const { deliver, completed } = peer.transfer.handle(packet);
    return { packet, begin, deliver, complete: completed, ack: peer.transfer.ack() };
  }

  // expire drops the transfers idle for the timeout at time now and returns
  // their sources (RUDP-15). Completed transfers are kept until then, so
  // that retransmissions are still acked (RUDP-17).
  expire(now) {
    const gone = [];
    for (const [source, peer] of this.peers) {
      if (now - peer.lastSeen >= this.idleTimeoutMs) {
        this.peers.delete(source);
        gone.push(source);
      }
    }
    return gone;
  }

  // forget drops the transfer from source at once (e.g. its file failed).
  forget(source) {
    this.peers.delete(source);
  }
}

// outputFileName is the course receiver's name "<ip>.<port>", made only from
// the source address and never from packet content; any character that is
// not a letter, digit, '.' or '-' becomes '_' (so IPv6 "::1" gives "__1"),
// and the name always stays one plain file in the current directory (RUDP-16).
export function outputFileName(address, port) {
  return `${address}.${port}`.replace(/[^A-Za-z0-9.-]/g, '_');
}
