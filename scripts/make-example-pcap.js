// Writes examples/arp-requests.pcap: requests for bound, tagged, and unbound targets.
// Run after the TypeScript build: node scripts/make-example-pcap.js
const { join } = require('node:path');
const { writePcap } = require('../dist/test/helpers/pcap.js');
const { arpFrame } = require('../dist/test/helpers/frames.js');

const frames = [];
for (let i = 0; i < 64; i++) {
  const sha = `02:00:00:00:01:${(i % 200).toString(16).padStart(2, '0')}`;
  const spa = `10.0.0.${100 + (i % 100)}`;
  frames.push(arpFrame({ sha, spa, tpa: '10.0.0.7' }));
  frames.push(arpFrame({ sha, spa, tpa: '10.0.0.8' }));
  frames.push(arpFrame({ sha, spa, tpa: '10.0.0.9', vlan: 10 }));
  frames.push(arpFrame({ sha, spa, tpa: '10.0.0.42' })); // unbound
}
writePcap(join(__dirname, '..', 'examples', 'arp-requests.pcap'), frames);
