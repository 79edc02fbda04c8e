// bench/sim.ts's workload in ns-3 (3.37, Debian's libns3-dev), for bench/ns3/compare.ts.
//
//   client i ──1 ms── router ──100 µs── node e ──100 µs── node p ──10 µs── pod p
//   (N clients)                 (3 node routers, fully meshed)    (one pod per node)
//
// Each client makes R short TCP request/response exchanges one after another, a fresh
// connection each (as curl does): connect, an 80-byte request, a 300-byte response (the
// size of myapp's answer), the client closes first. Client i enters the cluster at node
// e = i % 3 (bench/sim.ts sends client i to nodeIPs[i % 3]) and exchange j is served by pod
// p = (i + j) % 3, so two thirds of the connections cross a second node as NodePort
// traffic does. ns-3 has no NAT, so the path is made by addressing: pod p answers on
// 10.(200+e).p.1 (one alias per entry node), client i lives in 10.(100+e).0.0/16, and
// static routes on the router and the nodes steer both directions through node e.
// Links have svclab's latencies (src/sim/network.ts DEFAULT_LINKS) and no serialization
// delay worth the name (100 Gb/s); TCP acknowledges every segment (DelAckCount 1), as
// svclab's simulated hosts do.
//
// --qdisc: keep the fq_codel queue disc ns-3 puts on every device (off by default:
//   svclab's links have no queueing discipline, and fq_codel's per-packet classification
//   would be ns-3 doing more work than svclab, not slower work).
// --routing=static: ns-3's Ipv4StaticRouting as shipped (a linear route list; the router
//   holds a connected route per client link, and the weak end-system check walks every
//   interface for each forwarded packet).
// --routing=hashed: the same routes in hash maps (exact /32, /24, /16, /0) and the node's
//   own addresses in a hash set, so a lookup costs the same at any client count.
//
// Prints one line: NS3_JSON {"packets":…,"wallS":…,"cpuS":…,…}. packets counts IPv4
// packets received by the three node routers (Ipv4L3Protocol "Rx"), the counterpart of
// svclab's dataplane verdicts; only Simulator::Run() is timed.
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/ipv4-routing-helper.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

using namespace ns3;

namespace
{

// ---- hashed routing --------------------------------------------------------------

struct HashRoute
{
    uint32_t iface;
    Ipv4Address gateway;
};

class HashRouting : public Ipv4RoutingProtocol
{
  public:
    static TypeId GetTypeId()
    {
        static TypeId tid = TypeId("svclab::HashRouting")
                                .SetParent<Ipv4RoutingProtocol>()
                                .AddConstructor<HashRouting>();
        return tid;
    }

    void Add(Ipv4Address net, uint8_t prefix, uint32_t iface, Ipv4Address gw)
    {
        m_tables[Slot(prefix)][net.Get()] = HashRoute{iface, gw};
    }

    Ptr<Ipv4Route> RouteOutput(Ptr<Packet>,
                               const Ipv4Header& header,
                               Ptr<NetDevice>,
                               Socket::SocketErrno& sockerr) override
    {
        const HashRoute* r = Lookup(header.GetDestination());
        if (r == nullptr)
        {
            sockerr = Socket::ERROR_NOROUTETOHOST;
            return nullptr;
        }
        sockerr = Socket::ERROR_NOTERROR;
        return MakeRoute(header.GetDestination(), *r);
    }

    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb,
                    MulticastForwardCallback,
                    LocalDeliverCallback lcb,
                    ErrorCallback ecb) override
    {
        const Ipv4Address dst = header.GetDestination();
        if (m_local.count(dst.Get()) != 0)
        {
            lcb(p, header, m_ipv4->GetInterfaceForDevice(idev));
            return true;
        }
        const HashRoute* r = Lookup(dst);
        if (r == nullptr)
        {
            ecb(p, header, Socket::ERROR_NOROUTETOHOST);
            return true;
        }
        ucb(MakeRoute(dst, *r), p, header);
        return true;
    }

    void NotifyInterfaceUp(uint32_t) override
    {
    }

    void NotifyInterfaceDown(uint32_t) override
    {
    }

    void NotifyAddAddress(uint32_t, Ipv4InterfaceAddress a) override
    {
        m_local.insert(a.GetLocal().Get());
    }

    void NotifyRemoveAddress(uint32_t, Ipv4InterfaceAddress a) override
    {
        m_local.erase(a.GetLocal().Get());
    }

    void SetIpv4(Ptr<Ipv4> ipv4) override
    {
        m_ipv4 = ipv4;
        // Loopback and any addresses assigned before we were attached.
        for (uint32_t i = 0; i < ipv4->GetNInterfaces(); i++)
        {
            for (uint32_t j = 0; j < ipv4->GetNAddresses(i); j++)
            {
                m_local.insert(ipv4->GetAddress(i, j).GetLocal().Get());
            }
        }
    }

    void PrintRoutingTable(Ptr<OutputStreamWrapper>, Time::Unit) const override
    {
    }

  private:
    static int Slot(uint8_t prefix)
    {
        return prefix == 32 ? 0 : prefix == 24 ? 1 : prefix == 16 ? 2 : 3;
    }

    const HashRoute* Lookup(Ipv4Address dst) const
    {
        static const uint32_t masks[4] = {0xffffffff, 0xffffff00, 0xffff0000, 0};
        for (int i = 0; i < 4; i++)
        {
            auto it = m_tables[i].find(dst.Get() & masks[i]);
            if (it != m_tables[i].end())
            {
                return &it->second;
            }
        }
        return nullptr;
    }

    Ptr<Ipv4Route> MakeRoute(Ipv4Address dst, const HashRoute& r) const
    {
        Ptr<Ipv4Route> route = Create<Ipv4Route>();
        route->SetDestination(dst);
        route->SetGateway(r.gateway);
        route->SetSource(m_ipv4->GetAddress(r.iface, 0).GetLocal());
        route->SetOutputDevice(m_ipv4->GetNetDevice(r.iface));
        return route;
    }

    Ptr<Ipv4> m_ipv4;
    std::unordered_set<uint32_t> m_local;
    std::unordered_map<uint32_t, HashRoute> m_tables[4];
};

class HashRoutingHelper : public Ipv4RoutingHelper
{
  public:
    HashRoutingHelper* Copy() const override
    {
        return new HashRoutingHelper(*this);
    }

    Ptr<Ipv4RoutingProtocol> Create(Ptr<Node>) const override
    {
        return CreateObject<HashRouting>();
    }
};

bool g_hashed = false;

/** A route on `node`: `net/prefix` out of interface `iface`, via `gw` (0.0.0.0: on-link). */
void
AddRoute(Ptr<Node> node, const char* net, uint8_t prefix, uint32_t iface, Ipv4Address gw)
{
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    if (g_hashed)
    {
        DynamicCast<HashRouting>(ipv4->GetRoutingProtocol())
            ->Add(Ipv4Address(net), prefix, iface, gw);
        return;
    }
    Ptr<Ipv4StaticRouting> sr = Ipv4StaticRoutingHelper().GetStaticRouting(ipv4);
    const Ipv4Mask mask(("/" + std::to_string(prefix)).c_str());
    if (gw == Ipv4Address::GetAny())
    {
        sr->AddNetworkRouteTo(Ipv4Address(net), mask, iface);
    }
    else
    {
        sr->AddNetworkRouteTo(Ipv4Address(net), mask, gw, iface);
    }
}

// ---- the workload ------------------------------------------------------------------

const uint32_t kRequestBytes = 80;
const uint32_t kResponseBytes = 300;
const uint16_t kPort = 80;

uint64_t g_packets = 0;
uint32_t g_completed = 0;
uint32_t g_failed = 0;
uint32_t g_perClient = 10;

void
CountRx(Ptr<const Packet>, Ptr<Ipv4>, uint32_t)
{
    g_packets++;
}

struct Client
{
    Ptr<Node> node;
    uint32_t index;
    uint32_t done = 0;
    uint32_t received = 0;
    std::vector<Ipv4Address> targets; // by pod
};

void StartExchange(Client* c);
uint32_t g_total = 0;

/** Stop when the last exchange ends, as bench/sim.ts stops advancing then. */
void
CheckDone()
{
    if (g_completed + g_failed == g_total)
    {
        Simulator::Stop();
    }
}

void
ClientRecv(Client* c, Ptr<Socket> s)
{
    Ptr<Packet> p;
    while ((p = s->Recv()) != nullptr)
    {
        c->received += p->GetSize();
    }
    if (c->received >= kResponseBytes)
    {
        c->received = 0;
        s->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        s->Close();
        g_completed++;
        c->done++;
        CheckDone();
        StartExchange(c);
    }
}

void
StartExchange(Client* c)
{
    if (c->done == g_perClient)
    {
        return;
    }
    const uint32_t pod = (c->index + c->done) % 3;
    Ptr<Socket> s = Socket::CreateSocket(c->node, TcpSocketFactory::GetTypeId());
    s->Bind();
    s->SetConnectCallback(
        MakeCallback(+[](Ptr<Socket> sock) { sock->Send(Create<Packet>(kRequestBytes)); }),
        MakeCallback(+[](Client* cl, Ptr<Socket>) {
            g_failed++;
            cl->done++;
            CheckDone();
            StartExchange(cl);
        }).Bind(c));
    s->SetRecvCallback(MakeCallback(&ClientRecv).Bind(c));
    s->Connect(InetSocketAddress(c->targets[pod], kPort));
}

void
ServerRecv(Ptr<Socket> s)
{
    Ptr<Packet> p;
    bool got = false;
    while ((p = s->Recv()) != nullptr)
    {
        got = got || p->GetSize() > 0;
    }
    if (got)
    {
        s->Send(Create<Packet>(kResponseBytes));
    }
}

void
ServerAccept(Ptr<Socket> s, const Address&)
{
    s->SetRecvCallback(MakeCallback(&ServerRecv));
    s->SetCloseCallbacks(MakeCallback(+[](Ptr<Socket> sock) { sock->Close(); }),
                         MakeNullCallback<void, Ptr<Socket>>());
}

} // namespace

int
main(int argc, char** argv)
{
    uint32_t clients = 1000;
    std::string routing = "static";
    CommandLine cmd;
    cmd.AddValue("clients", "outside clients", clients);
    cmd.AddValue("requests", "exchanges per client", g_perClient);
    bool keepQdisc = false;
    cmd.AddValue("qdisc", "keep ns-3's default queue disc (fq_codel) on every device", keepQdisc);
    cmd.AddValue("routing", "static (ns-3's Ipv4StaticRouting) or hashed", routing);
    cmd.Parse(argc, argv);
    g_hashed = routing == "hashed";
    if (!g_hashed && routing != "static")
    {
        std::fprintf(stderr, "--routing must be static or hashed\n");
        return 2;
    }

    g_total = clients * g_perClient;
    Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(1));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1460));

    NodeContainer router(1), nodes(3), pods(3), outside(clients);
    InternetStackHelper stack;
    HashRoutingHelper hashHelper;
    if (g_hashed)
    {
        stack.SetRoutingHelper(hashHelper);
    }
    stack.Install(router);
    stack.Install(nodes);
    stack.Install(pods);
    stack.Install(outside);

    auto link = [](const char* delay) {
        PointToPointHelper p2p;
        p2p.SetDeviceAttribute("DataRate", StringValue("100Gbps"));
        p2p.SetChannelAttribute("Delay", StringValue(delay));
        // svclab's links queue without bound: no drops when 1,000 SYNs leave at once.
        p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize", StringValue("1000000p"));
        return p2p;
    };
    PointToPointHelper external = link("1ms"), nodeLink = link("100us"), veth = link("10us");
    Ipv4AddressHelper addr;
    const Ptr<Node> R = router.Get(0);

    // router ↔ node e: 10.0.100.0/30 + 4e; node e ↔ node f: 10.0.101.x/30; pod p: 10.244.p.0/24.
    // Interface numbers follow creation order (0 is loopback).
    std::vector<Ipv4Address> nodeUplink(3), routerSide(3);
    for (uint32_t e = 0; e < 3; e++)
    {
        addr.SetBase(Ipv4Address(("10.0.100." + std::to_string(4 * e)).c_str()), "/30");
        Ipv4InterfaceContainer ifs = addr.Assign(nodeLink.Install(R, nodes.Get(e)));
        routerSide[e] = ifs.GetAddress(0);
        nodeUplink[e] = ifs.GetAddress(1);
    }
    // mesh[e][f]: node e's interface towards f and f's address on that link.
    uint32_t meshIf[3][3] = {};
    Ipv4Address meshPeer[3][3];
    uint32_t nextIf[3] = {2, 2, 2}; // 1 = uplink
    uint32_t subnet = 0;
    for (uint32_t e = 0; e < 3; e++)
    {
        for (uint32_t f = e + 1; f < 3; f++)
        {
            addr.SetBase(Ipv4Address(("10.0.101." + std::to_string(4 * subnet++)).c_str()),
                         "/30");
            Ipv4InterfaceContainer ifs = addr.Assign(nodeLink.Install(nodes.Get(e), nodes.Get(f)));
            meshIf[e][f] = nextIf[e]++;
            meshIf[f][e] = nextIf[f]++;
            meshPeer[e][f] = ifs.GetAddress(1);
            meshPeer[f][e] = ifs.GetAddress(0);
        }
    }
    uint32_t vethIf[3];
    std::vector<Ipv4Address> podGw(3);
    for (uint32_t p = 0; p < 3; p++)
    {
        addr.SetBase(Ipv4Address(("10.244." + std::to_string(p) + ".0").c_str()), "/24");
        Ipv4InterfaceContainer ifs = addr.Assign(veth.Install(nodes.Get(p), pods.Get(p)));
        vethIf[p] = nextIf[p]++;
        podGw[p] = ifs.GetAddress(0);
        Ptr<Ipv4> ipv4 = pods.Get(p)->GetObject<Ipv4>();
        for (uint32_t e = 0; e < 3; e++) // the alias clients entering at node e connect to
        {
            const std::string a = "10." + std::to_string(200 + e) + "." + std::to_string(p) + ".1";
            ipv4->AddAddress(1, Ipv4InterfaceAddress(Ipv4Address(a.c_str()), Ipv4Mask("/24")));
        }
        AddRoute(pods.Get(p), "0.0.0.0", 0, 1, podGw[p]);
    }

    // Clients: 10.(100+e).x.y/30, e = i % 3; router interface 4 + i.
    std::vector<Client> cs(clients);
    uint32_t perEntry[3] = {0, 0, 0};
    for (uint32_t i = 0; i < clients; i++)
    {
        const uint32_t e = i % 3;
        const uint32_t k = perEntry[e]++;
        const std::string base = "10." + std::to_string(100 + e) + "." +
                                 std::to_string(k / 64) + "." + std::to_string((k % 64) * 4);
        addr.SetBase(Ipv4Address(base.c_str()), "/30");
        Ipv4InterfaceContainer ifs = addr.Assign(external.Install(R, outside.Get(i)));
        AddRoute(outside.Get(i), "0.0.0.0", 0, 1, ifs.GetAddress(0));
        if (g_hashed) // the connected route static routing adds by itself
        {
            DynamicCast<HashRouting>(R->GetObject<Ipv4>()->GetRoutingProtocol())
                ->Add(ifs.GetAddress(1), 32, 4 + i, Ipv4Address::GetAny());
        }
        cs[i].node = outside.Get(i);
        cs[i].index = i;
        for (uint32_t p = 0; p < 3; p++)
        {
            const std::string a =
                "10." + std::to_string(200 + e) + "." + std::to_string(p) + ".1";
            cs[i].targets.push_back(Ipv4Address(a.c_str()));
        }
    }

    // No queue discs (Ipv4AddressHelper installs fq_codel on every device): svclab's
    // links hand packets straight to the device, as --qdisc=none does here.
    if (!keepQdisc)
    {
        TrafficControlHelper tch;
        for (uint32_t n = 0; n < NodeList::GetNNodes(); n++)
        {
            Ptr<Node> node = NodeList::GetNode(n);
            for (uint32_t d = 0; d < node->GetNDevices(); d++)
            {
                Ptr<NetDevice> dev = node->GetDevice(d);
                if (DynamicCast<PointToPointNetDevice>(dev) != nullptr)
                {
                    tch.Uninstall(dev);
                }
            }
        }
    }

    // Router: pods' aliases for entry e → node e. Node routers: towards pods and clients.
    for (uint32_t e = 0; e < 3; e++)
    {
        const std::string podNet = "10." + std::to_string(200 + e) + ".0.0";
        AddRoute(R, podNet.c_str(), 16, 1 + e, nodeUplink[e]);
    }
    for (uint32_t n = 0; n < 3; n++)
    {
        Ptr<Node> node = nodes.Get(n);
        for (uint32_t e = 0; e < 3; e++)
        {
            for (uint32_t p = 0; p < 3; p++)
            {
                // 10.(200+e).p.0/24: entering at e, served by p.
                const std::string net =
                    "10." + std::to_string(200 + e) + "." + std::to_string(p) + ".0";
                if (p == n)
                {
                    AddRoute(node, net.c_str(), 24, vethIf[n], Ipv4Address::GetAny());
                }
                else if (e == n)
                {
                    AddRoute(node, net.c_str(), 24, meshIf[n][p], meshPeer[n][p]);
                }
            }
            // Replies to clients that entered at e go back through e.
            const std::string cnet = "10." + std::to_string(100 + e) + ".0.0";
            if (e == n)
            {
                AddRoute(node, cnet.c_str(), 16, 1, routerSide[n]);
            }
            else
            {
                AddRoute(node, cnet.c_str(), 16, meshIf[n][e], meshPeer[n][e]);
            }
        }
        node->GetObject<Ipv4L3Protocol>()->TraceConnectWithoutContext("Rx",
                                                                      MakeCallback(&CountRx));
    }

    for (uint32_t p = 0; p < 3; p++)
    {
        Ptr<Socket> listener = Socket::CreateSocket(pods.Get(p), TcpSocketFactory::GetTypeId());
        listener->Bind(InetSocketAddress(Ipv4Address::GetAny(), kPort));
        listener->Listen();
        listener->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                                    MakeCallback(&ServerAccept));
    }
    for (auto& c : cs)
    {
        Client* cl = &c;
        Simulator::Schedule(Seconds(0), +[](Client* x) { StartExchange(x); }, cl);
    }

    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    const auto t0 = std::chrono::steady_clock::now();
    Simulator::Stop(Seconds(600));
    Simulator::Run();
    const double wallS =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    getrusage(RUSAGE_SELF, &r1);
    auto secs = [](const timeval& a, const timeval& b) {
        return double(b.tv_sec - a.tv_sec) + double(b.tv_usec - a.tv_usec) / 1e6;
    };
    const double cpuS = secs(r0.ru_utime, r1.ru_utime) + secs(r0.ru_stime, r1.ru_stime);
    const double virtualS = Simulator::Now().GetSeconds();
    Simulator::Destroy();
    std::printf("NS3_JSON {\"routing\":\"%s\",\"clients\":%u,\"requests\":%u,\"packets\":%llu,"
                "\"completed\":%u,\"failed\":%u,\"wallS\":%.6f,\"cpuS\":%.6f,\"virtualS\":%.6f}\n",
                routing.c_str(),
                clients,
                g_perClient,
                static_cast<unsigned long long>(g_packets),
                g_completed,
                g_failed,
                wallS,
                cpuS,
                virtualS);
    return g_completed + g_failed == clients * g_perClient ? 0 : 1;
}
