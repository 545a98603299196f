/** Asset routes: keyset-paginated list, get by id or token address, create. */
import type { FastifyInstance } from 'fastify';
import type { NewAsset } from '../../storage/contract/database.js';
import type { AppContext } from '../context.js';
import { notFound } from '../errors.js';
import { pageOptions } from '../paging.js';
import { field, object, pageQuery, params, type PageQuery } from '../schemas.js';
import { assetJson, pageJson } from '../serialize.js';

const newAssetBody = object(
  {
    assetId: field.key,
    chainId: field.chainId,
    contractAddress: field.address,
    tokenAddress: field.address,
    metadata: field.document,
    metadataHash: field.hash,
    blockNumber: field.blockNumber,
    transactionHash: field.hash,
  },
  ['assetId', 'chainId', 'contractAddress', 'tokenAddress', 'metadata', 'metadataHash', 'transactionHash'],
);

/** Registers the asset routes. */
export function registerAssetRoutes(app: FastifyInstance, { db }: AppContext): void {
  app.get<{ Querystring: PageQuery }>('/api/assets', { schema: { querystring: object(pageQuery) } }, async (request) => {
    return pageJson(await db.getAssetsPage(pageOptions(request.query)), assetJson);
  });

  app.get<{ Params: { tokenAddress: string } }>(
    '/api/assets/by-token/:tokenAddress',
    { schema: { params: params({ tokenAddress: field.address }) } },
    async (request) => {
      const asset = await db.getAssetByTokenAddress(request.params.tokenAddress);
      if (asset === null) throw notFound('asset', { tokenAddress: request.params.tokenAddress });
      return assetJson(asset);
    },
  );

  app.get<{ Params: { assetId: string } }>('/api/assets/:assetId', { schema: { params: params({ assetId: field.key }) } }, async (request) => {
    const asset = await db.getAsset(request.params.assetId);
    if (asset === null) throw notFound('asset', { assetId: request.params.assetId });
    return assetJson(asset);
  });

  app.post<{ Body: Omit<NewAsset, 'blockNumber'> & { blockNumber?: number } }>(
    '/api/assets',
    { schema: { body: newAssetBody } },
    async (request, reply) => {
      const asset = await db.saveAsset({ blockNumber: 0, ...request.body });
      return reply.code(201).header('location', `/api/assets/${encodeURIComponent(asset.assetId)}`).send(assetJson(asset));
    },
  );
}
