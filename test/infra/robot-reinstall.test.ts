// The whole reinstall choreography of the Robot server provider over real SSH: the fake Robot
// webservice for the API side, and the Debian 13 test host (test/support/test-host.ts) playing the
// rescue system. Inside the test host, a stand-in installimage only records its arguments, and a
// stand-in reboot leaves a mark and removes installimage (the installed system has none): the real
// ones would wipe disks and restart the container.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestHost, type TestHost } from '../support/test-host.js';
import { FakeRobot } from '../support/fake-robot.js';
import { robotServerProvider } from '../../infra/robot/robot-server-provider.js';
import { md5Fingerprint } from '../../infra/robot/installimage.js';
import { publicKeyOf } from '../../infra/ssh-key.js';

const MIN = 60_000;

describe('Robot reinstall over SSH against a rescue-like Debian 13 host', { timeout: 10 * MIN }, () => {
  let host: TestHost;
  let robot: FakeRobot;

  before(async () => {
    host = await startTestHost();
    robot = await new FakeRobot().start();
    robot.addServer({ number: 7001, ip: host.address, name: 'rescue-test', product: 'AX42', dc: 'FSN1-DC1' });
    await host.exec(`install -d /root/.oldroot/nfs/install /root/.oldroot/nfs/images
touch /root/.oldroot/nfs/images/Debian-1204-bookworm-amd64-base.tar.gz /root/.oldroot/nfs/images/Debian-1300-trixie-amd64-base.tar.gz /root/.oldroot/nfs/images/Debian-1301-trixie-arm64-base.tar.gz
cat > /root/.oldroot/nfs/install/installimage <<'SCRIPT'
#!/bin/sh
printf '%s\\n' "$*" > /root/installimage.args
SCRIPT
chmod 0755 /root/.oldroot/nfs/install/installimage
cat > /usr/local/sbin/reboot <<'SCRIPT'
#!/bin/sh
touch /root/rebooted
rm -f /root/.oldroot/nfs/install/installimage
SCRIPT
chmod 0755 /usr/local/sbin/reboot`);
    // Only the stand-in may run: the real reboot would stop the container mid-test.
    assert.equal((await host.exec('command -v reboot')).trim(), '/usr/local/sbin/reboot');
  });
  after(async () => {
    await robot?.stop();
    await host?.destroy();
  });

  test('rescue with our key, reset, installimage with Debian 13, reboot, installed system reached', async () => {
    const privateKey = readFileSync(host.identityFile, 'utf8');
    const publicKey = publicKeyOf(privateKey, 'test host key');
    const started = Date.now();
    const r = await robotServerProvider.create({
      robotUrl: robot.url, robotUser: 'robot-user', robotPassword: 'robot-password', serverNumber: 7001, serverIp: host.address,
      install: { generation: 3, hostname: 'sandbox', drives: ['nvme0n1', 'nvme1n1'], raidLevel: 1, sshPublicKey: publicKey },
      sshPrivateKey: privateKey,
      timing: { rescueWaitMs: 60_000, installMs: 60_000, bootWaitMs: 60_000, pollMs: 500 },
    });
    assert.equal(r.outs.installedGeneration, 3);
    assert.equal(r.outs.sshPrivateKey, undefined, 'the private key is not kept in the state');
    assert.deepEqual(robot.rescue.get(7001), { active: true, keys: [await md5Fingerprint(publicKey)] });
    assert.deepEqual(robot.resets, [{ server: 7001, type: 'hw' }]);
    const args = (await host.exec('cat /root/installimage.args')).trim();
    assert.equal(
      args,
      '-a -n sandbox -r yes -l 1 -d nvme0n1,nvme1n1 -i /root/.oldroot/nfs/images/Debian-1300-trixie-amd64-base.tar.gz -p swap:swap:4G,/boot:ext3:1024M,/:ext4:all -K /root/.ssh/authorized_keys -t yes',
    );
    assert.equal((await host.ssh('test -e /root/rebooted')).code, 0, 'reboot was called');
    assert.ok(Date.now() - started < 60_000);
  });
});
