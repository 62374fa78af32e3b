// Loaded into a profiled server with --import (bench/profile.mjs, PROFILE_HEAP=1). SIGUSR2 starts
// V8's sampling heap profiler, keeping only objects that outlived a minor collection (promoted
// to the old generation, whether a major collection later freed them or not); a second SIGUSR2
// writes what it saw to $TESSERA_HEAP_PROFILE.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (!err) writeFileSync(process.env.TESSERA_HEAP_PROFILE, JSON.stringify(result.profile));
  });
});
