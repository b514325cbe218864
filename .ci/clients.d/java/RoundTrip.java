// A Java view of lamina through the client openapi-generator generates
// (`-g java --library native`, flags in .ci/clients). Run by .ci/clients:
//
//     java -cp CLASSES:JARS RoundTrip.java BASE_URL SLUG OUT.json
//
// Reads the seeded article (whole, and only its steps and risks), its steps section, the section's first item, a
// page of the article list and a page of the sync feed through the generated
// API classes and models, and writes what the client understood as
// {path: object} (each model serialized back by the client's own ObjectMapper)
// to OUT.json, for compare.py to check field by field against curl's JSON.

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.lamina.client.model.AbstractOpenApiSchema;
import org.lamina.client.ApiClient;
import org.lamina.client.api.ArticlesApi;
import org.lamina.client.api.SectionsApi;
import org.lamina.client.api.SyncApi;
import org.lamina.client.model.Article;
import org.lamina.client.model.ArticlePage;
import org.lamina.client.model.Item;
import org.lamina.client.model.Section;
import org.lamina.client.model.SectionKind;
import org.lamina.client.model.StepsSection;
import org.lamina.client.model.SyncPage;

public class RoundTrip {
    static String typeOf(Object value) {
        Object actual = value instanceof AbstractOpenApiSchema s ? s.getActualInstance() : value;
        return actual == null ? "null" : actual.getClass().getSimpleName();
    }

    public static void main(String[] args) throws Exception {
        String base = args[0], slug = args[1], out = args[2];
        ApiClient client = new ApiClient();
        client.updateBaseUri(base);
        ArticlesApi articles = new ArticlesApi(client);
        SectionsApi sections = new SectionsApi(client);
        SyncApi sync = new SyncApi(client);
        Map<String, Object> parsed = new LinkedHashMap<>();
        String path = "/v1/articles/" + slug;

        Article article = articles.getArticle(slug, null, null, null, null, null, null);
        parsed.put(path, article);
        StringBuilder kinds = new StringBuilder();
        for (Section s : article.getSections()) {
            kinds.append(kinds.length() > 0 ? ", " : "").append(typeOf(s));
        }
        System.err.println("java: " + article.getTitle() + ": " + kinds);

        Section section = sections.getSection(slug, SectionKind.STEPS, null, null, null, null, null);
        parsed.put(path + "/sections/steps", section);
        if (!(section.getActualInstance() instanceof StepsSection steps)) {
            throw new IllegalStateException("steps read as " + typeOf(section));
        }
        UUID itemId = steps.getItems().get(0).getId();
        Item item = sections.getItem(slug, SectionKind.STEPS, itemId, null, null, null, null, null);
        parsed.put(path + "/sections/steps/items/" + itemId, item);
        System.err.println("java: steps read as " + typeOf(section) + ", its first item as " + typeOf(item));

        // Only some kinds: `sections` is a List<SectionKind>, sent comma-separated.
        Article picked = articles.getArticle(slug, List.of(SectionKind.STEPS, SectionKind.RISKS), null, null, null, null, null);
        parsed.put(path + "?sections=steps,risks", picked);
        System.err.println("java: ?sections=steps,risks: " + picked.getSections().stream().map(RoundTrip::typeOf).toList());

        ArticlePage page = articles.listArticles(2, null, null, null, null, null, null);
        parsed.put("/v1/articles?limit=2", page);
        SyncPage feed = sync.sync(3, null, null, null);
        parsed.put("/v1/sync?limit=3", feed);
        System.err.println("java: a list page of " + page.getItems().size() + " and a sync page of "
            + feed.getEntries().size() + " entries (" + feed.getEntries().stream().map(RoundTrip::typeOf).toList() + ")");

        ObjectMapper mapper = client.getObjectMapper();
        mapper.writeValue(new File(out), parsed);
    }
}
