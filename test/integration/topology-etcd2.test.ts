import { describeFollowerOnRealCluster } from './topology-scenarios.js';

describeFollowerOnRealCluster('etcd');
