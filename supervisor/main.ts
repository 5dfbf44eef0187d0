// Supervisor process entry (docker-compose, other hosts): actor pools only.
import { runProcess } from '../platform/process-main.js';
import { startSupervisor } from './supervisor.js';

await runProcess('supervisor', startSupervisor);
