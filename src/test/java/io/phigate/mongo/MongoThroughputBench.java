package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Documents/s of one large find, through the front door and straight to the store, in one run: the same documents
 * in {@code docs}, whose {@code name} is tagged (masked through the gateway), and in {@code plain}, untagged
 * (forwarded raw). A measurement, not part of the suite: {@code -Dtest=MongoThroughputBench -Dphigate.bench=true [-Dphigate.bench.documents=N]}.
 */
@EnabledIfSystemProperty(named = "phigate.bench", matches = "true")
class MongoThroughputBench {
    @TempDir
    Path dir;

    @Test
    void findThroughTheGatewayAgainstDirect() throws Exception {
        int n = Integer.getInteger("phigate.bench.documents", 200_000);
        var catalog = new io.phigate.mask.DocumentCatalog(java.util.Map.of("bench.docs", java.util.Map.of("name",
                io.phigate.mask.PhiType.NAME)));
        try (MongoHarness gateway = new MongoHarness(dir, null, new io.phigate.mongo.masking.DocumentPolicy(catalog,
                io.phigate.policy.Policy.NONE, null))) {
            String direct = "mongodb://127.0.0.1:" + gateway.store.getLocalAddress().getPort();
            try (MongoClient c = MongoClients.create(direct)) {
                MongoCollection<Document> docs = c.getDatabase("bench").getCollection("docs");
                MongoCollection<Document> plain = c.getDatabase("bench").getCollection("plain");
                List<Document> batch = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    batch.add(new Document("i", i).append("name", "patient " + i).append("note", "x".repeat(150)));
                    if (batch.size() == 10_000) {
                        docs.insertMany(batch);
                        plain.insertMany(batch.stream().map(d -> new Document(d).append("_id",
                                new org.bson.types.ObjectId())).toList());
                        batch.clear();
                    }
                }
                read("direct (warm-up)", c, "docs", n);
                read("direct", c, "docs", n);
            }
            try (MongoClient c = MongoClients.create(MongoClientSettings.builder()
                    .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + gateway.port()))
                    .credential(MongoCredential.createPlainCredential("a", "$external", gateway.token().toCharArray()))
                    .build())) {
                read("gateway unmasked (warm-up)", c, "plain", n);
                read("gateway unmasked", c, "plain", n);
                read("gateway masked (warm-up)", c, "docs", n);
                read("gateway masked", c, "docs", n);
            }
        }
    }

    private static void read(String label, MongoClient c, String collection, int n) {
        MongoCollection<RawBsonDocument> docs = c.getDatabase("bench").getCollection(collection,
                RawBsonDocument.class);
        long start = System.nanoTime();
        long count = 0;
        long bytes = 0;
        for (RawBsonDocument d : docs.find().batchSize(10_000)) {
            count++;
            bytes += d.getByteBuffer().remaining();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(count).isEqualTo(n);
        System.out.printf("%s: %d documents in %.2f s: %.0f documents/s, %.1f MB/s%n", label, count, seconds,
                count / seconds, bytes / seconds / 1e6);
    }
}
