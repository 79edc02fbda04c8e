// Which workload an image stands for, in simulation and in the lab:
//   wangyanglinux/myapp:vN                 the seed's nginx test page (myapp)
//   …coredns…                              CoreDNS with the kubernetes plugin on :53
//   …ingress-nginx/controller…,
//   …nginx-ingress-controller…             ingress-nginx on :80 and :443
//   anything else                          an HTTP echo on each declared TCP containerPort

export type WorkloadKind = 'myapp' | 'coredns' | 'ingress-nginx' | 'http-echo';

export function workloadFor(image: string): WorkloadKind {
  if (/(^|\/)myapp(:|$)/.test(image)) return 'myapp';
  if (/coredns/.test(image)) return 'coredns';
  if (/ingress-nginx\/controller|nginx-ingress-controller/.test(image)) return 'ingress-nginx';
  return 'http-echo';
}
