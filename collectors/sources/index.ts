import type { SourceConfig } from '../config';
import type { Collector, CollectorDeps } from '../types';
import { NewsCollector } from './news';
import { RssCollector } from './rss';
import { WechatCollector } from './wechat';
import { WeiboCollector } from './weibo';

/** The collector for a configured source; one per source for the life of the process. */
export function createCollector(source: SourceConfig, deps: CollectorDeps): Collector {
  switch (source.type) {
    case 'rss':
      return new RssCollector(source, deps);
    case 'news':
      return new NewsCollector(source, deps);
    case 'weibo':
      return new WeiboCollector(source, deps);
    case 'wechat':
      return new WechatCollector(source, deps);
  }
}
