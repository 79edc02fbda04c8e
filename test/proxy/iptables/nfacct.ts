// What kube-proxy does at start-up before its first iptables-restore (nfacct.Ensure):
// create the nfnetlink_acct objects its `-m nfacct --nfacct-name` rules name, which
// the kernel's xt_nfacct refuses to load a rule without. There is no nfacct tool here,
// so a few lines of Python send the NFNL_MSG_ACCT_NEW requests on a netlink socket; run
// them inside the test's network namespace (the objects are per namespace).
export const NFACCT_COUNTERS = ['ct_state_invalid_dropped_pkts', 'localhost_nps_accepted_pkts'];

/** `python3 -c NFACCT_ADD_PY NAME...`: creates each object (an existing one is fine). */
export const NFACCT_ADD_PY = `
import socket, struct, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
s.bind((0, 0))
for seq, name in enumerate(sys.argv[1:], 1):
    n = name.encode() + b'\\0'
    attr = struct.pack('HH', 4 + len(n), 1) + n  # NFACCT_NAME
    attr += b'\\0' * ((4 - len(attr) % 4) % 4)
    body = struct.pack('BBH', 0, 0, 0) + attr  # nfgenmsg: AF_UNSPEC, NFNETLINK_V0
    # NFNL_SUBSYS_ACCT << 8 | NFNL_MSG_ACCT_NEW; NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
    s.send(struct.pack('IHHII', 16 + len(body), 7 << 8, 0x405, seq, 0) + body)
    err = struct.unpack('i', s.recv(4096)[16:20])[0]
    if err not in (0, -17):
        sys.exit('nfacct add %s: errno %d' % (name, -err))
`;
